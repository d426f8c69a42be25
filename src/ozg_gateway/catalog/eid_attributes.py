"""The attributes of the German eID (BSI TR-03130), in the order of the eID-Server schema.

Offers name them in their eID policy (``eid.attributes``); the eID flow requests them.
"""

# Every element of OperationsRequestorType that the 2.0.2 schema requires, in schema order,
# followed by the optional ones we may request.
MANDATORY_OPERATIONS = (
    "DocumentType",
    "IssuingState",
    "DateOfExpiry",
    "GivenNames",
    "FamilyNames",
    "ArtisticName",
    "AcademicTitle",
    "DateOfBirth",
    "PlaceOfBirth",
    "Nationality",
)
ORDER = (
    *MANDATORY_OPERATIONS,
    "Sex",
    "OptionalDataR",
    "BirthName",
    "WrittenSignature",
    "DateOfIssuance",
    "PlaceOfResidence",
    "MunicipalityID",
    "ResidencePermitI",
    "ResidencePermitII",
    "PhoneNumber",
    "EmailAddress",
    "RestrictedID",
    "AgeVerification",
    "PlaceVerification",
)
