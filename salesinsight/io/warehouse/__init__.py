"""Warehouse syncs: the tables an ELT connector writes, opened in the engine that holds them.

:mod:`~salesinsight.io.warehouse.layout` names the tables and columns of the Salesforce and
HubSpot connectors and which canonical field each column feeds;
:mod:`~salesinsight.io.warehouse.engine` opens a source (a DuckDB file or connection, an ibis
backend, a database URL) and its tables; :mod:`~salesinsight.io.warehouse.conventions` turns the
connector's delete and history-mode columns into the reason a row is not current. Nothing here
fetches a table into memory: the expressions run in the engine.
"""

from __future__ import annotations
