"""``cloudcost report``: cost by provider, service category and team for a date range, as text or HTML.

queries.py reads the rollups into a ReportData (model.py); terminal.py and html.py (charts from charts.py)
only format it; money.py rounds Decimals so that every table's rows add up to its total.
"""
