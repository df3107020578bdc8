"""Private solvers behind the public estimators, each tested equal to statsmodels."""
