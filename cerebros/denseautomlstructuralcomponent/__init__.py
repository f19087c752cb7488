"""Connectivity hyper-parameters (original import path)."""
