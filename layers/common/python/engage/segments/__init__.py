"""Segments: the rule language (JSON and text), validation, the evaluator, saved segments, snapshots.

See docs/segments.md.
"""
