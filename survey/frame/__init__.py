"""The customer base and the sample: import, exclusions, frame, plan and draw (issue #5)."""
