"""Journeys: a trigger and a graph of steps per journey, runs moved exactly once, the defaults that ship.

See docs/journeys.md.
"""
