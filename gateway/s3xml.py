"""S3's XML documents: reading the store's answers and the client's small request bodies, and
rewriting the elements that name a bucket or a key from the store's view to the client's.

ElementTree never resolves external entities and expat (2.4 and later) refuses entity expansion
blow-ups; a client body with a document type declaration is refused outright, since S3's request
documents never have one.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

from gateway.errors import S3Error

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ElementTree.register_namespace("", S3_NS)


def tag_of(element: ElementTree.Element) -> str:
    """An element's name without its namespace."""
    return element.tag.split("}", 1)[-1]


def parsed(body: bytes) -> ElementTree.Element:
    """An upstream store's XML answer; a hostile store can send no more than bad XML, answered
    to the client as the store's failure."""
    try:
        return ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as broken:
        raise S3Error("InternalError", "The storage answered with a document that is not XML.", 502) from broken


def client_document(body: bytes, root: str) -> ElementTree.Element:
    """A client's request document whose root element is ``root``, or ``MalformedXML``."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise S3Error("MalformedXML", "The XML you provided may not declare a document type.")
    try:
        document = ElementTree.fromstring(body)  # noqa: S314 - no DTD, see above
    except ElementTree.ParseError as broken:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed.") from broken
    if tag_of(document) != root:
        raise S3Error("MalformedXML", f"The XML you provided is not a {root} document.")
    return document


def child_text(element: ElementTree.Element, name: str) -> str | None:
    """The text of ``element``'s child ``name`` in or out of S3's namespace."""
    for child in element:
        if tag_of(child) == name:
            return child.text or ""
    return None


def rewritten(body: bytes, rewrite: dict[str, Callable[[str], str]]) -> bytes:
    """``body`` with the text of every element named in ``rewrite`` passed through its function."""
    root = parsed(body)
    for element in root.iter():
        change = rewrite.get(tag_of(element))
        if change is not None:
            element.text = change(element.text or "")
    return document(root)


def document(root: ElementTree.Element) -> bytes:
    return DECLARATION + ElementTree.tostring(root)
