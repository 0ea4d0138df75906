"""The organisation's signing key: making an evaluation pair, loading it, signing, validating.

Records are signed with PAdES (pyHanko) as certifying signatures that allow no change, so any
standard reader shows them as signed and unchanged, and a changed byte breaks the signature.
Keys come from configuration (PEM key and certificate, or PKCS#12), or from the self-signed pair
`flask records keygen` writes to instance/; with neither, records are stored unsigned.
"""

from __future__ import annotations

import asyncio
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko_certvalidator.registry import SimpleCertificateStore

KEY_FILE, CERT_FILE = "signing-key.pem", "signing-cert.pem"


class SigningError(Exception):
    """The signing key or certificate cannot be used (the message says why)."""


@dataclass(frozen=True)
class KeyFiles:
    key: Path | None = None
    cert: Path | None = None
    pkcs12: Path | None = None
    passphrase: str | None = None
    chain: Path | None = None


# Making an evaluation key -------------------------------------------------------------------


def keygen(directory: Path, organisation: str, *, days: int = 3 * 365,
           force: bool = False) -> tuple[Path, Path]:
    """Write a self-signed RSA-3072 key (mode 0600) and certificate for evaluation."""
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    if not force and (key_path.exists() or cert_path.exists()):
        raise SigningError(f"{key_path} or {cert_path} exists already; pass --force to replace "
                           "them (records signed with the old key stay valid with the old "
                           "certificate).")
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} review records"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    tmp = key_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    os.chmod(tmp, 0o600)
    tmp.replace(key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


# Loading ------------------------------------------------------------------------------------


def configured_files() -> KeyFiles | None:
    """The key files configuration names, else instance/'s evaluation pair, else None."""
    config = current_app.config
    passphrase = config.get("SIGNING_PASSPHRASE")
    chain = Path(config["SIGNING_CHAIN"]) if config.get("SIGNING_CHAIN") else None
    if config.get("SIGNING_PKCS12"):
        return KeyFiles(pkcs12=Path(config["SIGNING_PKCS12"]), passphrase=passphrase,
                        chain=chain)
    if config.get("SIGNING_KEY") or config.get("SIGNING_CERT"):
        if not (config.get("SIGNING_KEY") and config.get("SIGNING_CERT")):
            raise SigningError("Set both REVIEWAPP_SIGNING_KEY and REVIEWAPP_SIGNING_CERT "
                               "(or REVIEWAPP_SIGNING_PKCS12).")
        return KeyFiles(key=Path(config["SIGNING_KEY"]), cert=Path(config["SIGNING_CERT"]),
                        passphrase=passphrase, chain=chain)
    instance = Path(current_app.instance_path)
    if (instance / KEY_FILE).exists() and (instance / CERT_FILE).exists():
        return KeyFiles(key=instance / KEY_FILE, cert=instance / CERT_FILE)
    return None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningError(f"Cannot read the signing {what} {path}: {exc.strerror}") from exc


def _pem_or_der_certs(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class RecordSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, keeping the parsed key: pyHanko would parse (and, for RSA,
    check) the key again on every signature, which costs more than rendering a page."""

    def __init__(self, crypto_key, cert: x509.Certificate, chain: list[x509.Certificate]):
        der = crypto_key.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
        registry = SimpleCertificateStore()
        registry.register_multiple([_asn1_cert(c) for c in chain])
        super().__init__(signing_cert=_asn1_cert(cert),
                         signing_key=asn1_keys.PrivateKeyInfo.load(der),
                         cert_registry=registry)
        self._crypto_key = crypto_key
        self.certificate = cert

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._crypto_key
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algo))
        if mechanism == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        return super().sign_raw(data, digest_algorithm)

    @property
    def name(self) -> str:
        """The signer as a person reads it: the certificate's common name and organisation."""
        subject = self.certificate.subject
        common = [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        org = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if not common:
            return subject.rfc4514_string()
        if org and org[0] not in common[0]:
            return f"{common[0]} ({org[0]})"
        return common[0]


def load_signer(files: KeyFiles) -> RecordSigner:
    """Parse the key and certificate the files hold (a clear SigningError if they are wrong)."""
    password = files.passphrase.encode() if files.passphrase else None
    chain = _pem_or_der_certs(_read(files.chain, "chain")) if files.chain else []
    try:
        if files.pkcs12 is not None:
            key, cert, extra = pkcs12.load_key_and_certificates(
                _read(files.pkcs12, "PKCS#12 file"), password)
            if key is None or cert is None:
                raise SigningError(f"{files.pkcs12} holds no key and certificate.")
            chain += list(extra or [])
        else:
            data = _read(files.key, "key")
            key = (serialization.load_pem_private_key(data, password)
                   if b"-----BEGIN" in data else
                   serialization.load_der_private_key(data, password))
            cert = _pem_or_der_certs(_read(files.cert, "certificate"))[0]
    except (ValueError, TypeError) as exc:
        raise SigningError(f"Cannot load the signing key: {exc}") from exc
    if cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo):
        raise SigningError("The signing certificate does not belong to the signing key.")
    return RecordSigner(key, cert, chain)


@lru_cache(maxsize=4)
def _cached_signer(files: KeyFiles, stamp: tuple) -> RecordSigner:
    return load_signer(files)


def current_signer() -> RecordSigner | None:
    """This process's signer for the configured key (reloaded when a file changes), or None."""
    files = configured_files()
    if files is None:
        return None
    paths = [p for p in (files.key, files.cert, files.pkcs12, files.chain) if p is not None]
    try:
        stamp = tuple(p.stat().st_mtime_ns for p in paths)
    except OSError as exc:
        raise SigningError(f"Cannot read the signing key file: {exc}") from exc
    return _cached_signer(files, stamp)


# Signing ------------------------------------------------------------------------------------


def outside_event_loop(function, *args, **kwargs):
    """Call one of pyHanko's synchronous functions, which run their own asyncio loop: in a
    thread of its own when this thread already runs a loop (an async worker, a test driving a
    browser), where asyncio.run() would refuse."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(function, *args, **kwargs).result()


def sign(pdf: bytes, signer: RecordSigner, *, organisation: str, document_id: str) -> bytes:
    """A certifying PAdES signature over the whole file that permits no later change."""
    meta = signers.PdfSignatureMetadata(
        field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=f"Review record {document_id}, finalised", location=organisation,
        name=organisation, certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return outside_event_loop(signers.sign_pdf, writer, meta, signer=signer).getvalue()
