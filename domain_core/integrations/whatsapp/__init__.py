"""WhatsApp Business Cloud API connector: a client over ConnectorHttp, the webhook checks and parser, a simulator."""
