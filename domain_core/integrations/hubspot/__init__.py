"""HubSpot CRM connector: a thin client over ConnectorHttp, the webhook v3 signature check, and a simulator."""
