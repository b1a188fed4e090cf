"""`make bench`: data generator, in-process measurements, load test (pytest collects none)."""
