"""A faithful stand-in for the carrier's five partner APIs, run as its own process.

Standard library only, so it runs anywhere Python 3.12 does: `python -m sandbox --port 8100`.
"""
