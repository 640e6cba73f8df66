"""Salesforce Outbound Messages (pure): the SOAP ``notifications`` a Workflow/Flow action POSTs, and our Ack.

Shape: Salesforce API guide "Understanding the Outbound Messaging WSDL" (developer.salesforce.com, sforce api om
outboundmessaging wsdl): ``notifications{OrganizationId, ActionId, SessionId?, EnterpriseUrl, PartnerUrl,
Notification[1..100]{Id, sObject{sf:Id, fields…}}}`` in namespace ``http://soap.sforce.com/2005/09/outbound``;
the receiver answers ``notificationsResponse{Ack: true}`` for the whole message, and Salesforce redelivers until
it does, so a Notification ``Id`` can arrive again (the guide: track it to skip redeliveries).
Messages are not signed: the receiver trusts nothing in them but the ids, and reads the records back from
Salesforce with the tenant's own credentials.
"""

from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_BODY = 512 * 1024
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs
_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification: its own id (for dedupe) and the record it names."""

    id: str
    object_type: str
    record_id: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A parsed ``notifications`` call."""

    organization_id: str
    action_id: str
    notices: tuple[Notice, ...]


def _salesforce_id(value: str | None, what: str) -> str:
    if value is None or len(value) not in (15, 18) or not set(value) <= _ID:
        raise ValueError(f"{what} is not a Salesforce id")
    return value


def parse(body: bytes) -> OutboundMessage:
    """The message in ``body``; ValueError naming what is wrong when it is not one (DTDs are refused outright)."""
    if len(body) > MAX_BODY:
        raise ValueError("the message is larger than any outbound message")
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise ValueError("outbound messages carry no DTD or entities") from None
    except ParseError:
        raise ValueError("the body is not XML") from None
    calls = root.findall(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    if len(calls) != 1:
        raise ValueError("the body holds no notifications call")
    call = calls[0]
    organization = _salesforce_id(call.findtext(f"{{{OUTBOUND}}}OrganizationId"), "OrganizationId")
    action = _salesforce_id(call.findtext(f"{{{OUTBOUND}}}ActionId"), "ActionId")
    notices = []
    for item in call.findall(f"{{{OUTBOUND}}}Notification"):
        notification_id = _salesforce_id(item.findtext(f"{{{OUTBOUND}}}Id"), "Notification Id")
        record = item.find(f"{{{OUTBOUND}}}sObject")
        if record is None:
            raise ValueError(f"notification {notification_id} names no sObject")
        object_type = (record.get(f"{{{XSI}}}type") or "").split(":")[-1]
        if not object_type.isidentifier():
            raise ValueError(f"notification {notification_id} has no sObject type")
        record_id = _salesforce_id(record.findtext(f"{{{SOBJECT}}}Id"), "sObject Id")
        notices.append(Notice(notification_id, object_type, record_id))
    if not 1 <= len(notices) <= MAX_NOTIFICATIONS:
        raise ValueError("a message carries 1-100 notifications")
    return OutboundMessage(organization, action, tuple(notices))


def ack(*, accepted: bool = True) -> str:
    """Our answer: ``Ack`` true stops Salesforce's redeliveries of the whole message, false asks for them."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
        f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>{"true" if accepted else "false"}</Ack>'
        "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
    )


def message(organization_id: str, action_id: str, notices: list[Notice]) -> bytes:
    """A ``notifications`` call as Salesforce sends it (the simulator's and the tests' side)."""
    items = "".join(
        f'<Notification><Id>{n.id}</Id><sObject xsi:type="sf:{n.object_type}" xmlns:sf="{SOBJECT}">'
        f"<sf:Id>{n.record_id}</sf:Id></sObject></Notification>"
        for n in notices
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:xsi="{XSI}">'
        f'<soapenv:Body><notifications xmlns="{OUTBOUND}"><OrganizationId>{organization_id}</OrganizationId>'
        f'<ActionId>{action_id}</ActionId><SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/66.0</EnterpriseUrl>"
        "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/66.0</PartnerUrl>"
        f"{items}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()
