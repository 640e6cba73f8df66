"""PayPal webhook transmission signatures: the CRC32 string, RSA-SHA256 signing and offline verification."""

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# Delivery headers of a webhook transmission.
# https://developer.paypal.com/api/webhooks/v1/#verify-webhook-signature (request fields mirror these headers)
TRANSMISSION_ID = "PAYPAL-TRANSMISSION-ID"
TRANSMISSION_TIME = "PAYPAL-TRANSMISSION-TIME"
TRANSMISSION_SIG = "PAYPAL-TRANSMISSION-SIG"
CERT_URL = "PAYPAL-CERT-URL"
AUTH_ALGO = "PAYPAL-AUTH-ALGO"
SIGNATURE_HEADERS = (AUTH_ALGO, CERT_URL, TRANSMISSION_ID, TRANSMISSION_SIG, TRANSMISSION_TIME)
SHA256_WITH_RSA = "SHA256withRSA"


def body_crc32(raw_body: bytes) -> int:
    """CRC32 of the exact delivered bytes as an unsigned integer (PayPal signs its decimal form)."""
    return zlib.crc32(raw_body) & 0xFFFFFFFF


def transmission_message(*, transmission_id: str, transmission_time: str, webhook_id: str, raw_body: bytes) -> bytes:
    """The signed string ``transmission_id|transmission_time|webhook_id|crc32(raw body)``."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{body_crc32(raw_body)}".encode()


def verify_signature(certificate_pem: bytes, message: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid SHA256withRSA signature of ``message`` by the certificate's key."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    except (binascii.Error, ValueError):
        return False
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_transmission(
    *, headers: Mapping[str, str], raw_body: bytes, webhook_id: str, certificate_pem: bytes
) -> bool:
    """Offline check of a delivery against an already fetched (and host-pinned) certificate."""
    lowered = {key.lower(): value for key, value in headers.items()}
    values = {name: lowered.get(name.lower()) for name in SIGNATURE_HEADERS}
    if any(value is None for value in values.values()) or values[AUTH_ALGO] != SHA256_WITH_RSA:
        return False
    message = transmission_message(
        transmission_id=str(values[TRANSMISSION_ID]),
        transmission_time=str(values[TRANSMISSION_TIME]),
        webhook_id=webhook_id,
        raw_body=raw_body,
    )
    return verify_signature(certificate_pem, message, str(values[TRANSMISSION_SIG]))


@dataclass(frozen=True)
class SigningIdentity:
    """An RSA key and the self-signed certificate that publishes its public half."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate_pem: bytes

    @classmethod
    def generate(cls, *, common_name: str, now: datetime) -> "SigningIdentity":
        """A fresh 2048-bit key with a certificate valid from a day before ``now`` for a year."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(private_key=key, certificate_pem=certificate.public_bytes(serialization.Encoding.PEM))

    def sign(self, message: bytes) -> str:
        """Base64 SHA256withRSA (PKCS#1 v1.5) signature of ``message``."""
        signature = self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")
