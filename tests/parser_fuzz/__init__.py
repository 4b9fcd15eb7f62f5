"""Fuzzing tracehound's parsers: the inputs (:mod:`.strategies`) and the parsers (:mod:`.targets`).

Shared by ``tests/test_fuzz.py`` (a few examples per parser, every run) and ``benchmarks/fuzz.py``
(100,000 and more per parser, with figures).
"""
