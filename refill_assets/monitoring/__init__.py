"""What happened after each prediction: outcomes, live performance, drift, pilot KPIs."""
