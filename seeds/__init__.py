"""Reference data (CSV) and the synthetic data generator."""
