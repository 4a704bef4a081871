"""COCO object detectors (banned objects, people) behind one ``ObjectDetections`` result."""
