"""Reports exported from the marts (CSV files under reports/)."""
