"""COCO object detectors (banned objects, people): CenterNet, NanoDet, YOLO and their fusion."""
