"""Command-line front ends of the data tools: ``prepare-data`` (:mod:`.prepare`) and
``benchmark-data`` (:mod:`.benchmark`); each ``main(argv)`` returns an exit code."""
