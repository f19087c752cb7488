"""SimpleCerebrosRandomSearch (original import path)."""
