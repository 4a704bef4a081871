"""Exam attempts: frames turned into incidents over time, a risk score, evidence, webhooks."""
