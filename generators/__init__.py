"""The plant simulation: reads the seeds, simulates the dairy day by day and writes one CSV per event dataset."""
