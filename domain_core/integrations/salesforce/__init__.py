"""Salesforce connector: a thin REST client over ConnectorHttp (SOQL, upsert by external id) and a simulator."""
