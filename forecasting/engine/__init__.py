"""The forecasting engine: pure numpy/pandas, no Django imports."""
