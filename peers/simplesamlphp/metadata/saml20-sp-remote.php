<?php
// The product's application, set up as its Okta guide says: ACS URL and Audience from the
// product, NameID = email (format unspecified), first and last name as the documented claim
// URIs, response and assertion signed, nothing encrypted, only the app's group let in.
// The harness fills in the double-brace placeholders; the misconfigured variants change the marked lines.
$metadata['{{ENTITY_ID}}'] = [
    'AssertionConsumerService' => [[
        'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
        'Location' => '{{ACS_URL}}',
    ]],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    'simplesaml.nameidattribute' => 'email',
    'saml20.sign.response' => {{SIGN}},
    'saml20.sign.assertion' => {{SIGN}},
    'assertion.encryption' => {{ENCRYPT}},
    'certData' => '{{SP_ENC_CERT}}',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
    'authproc' => [
        10 => [
            'class' => 'authorize:Authorize',
            'regex' => false,
            'groups' => ['{{APP_GROUP}}'],
        ],
        20 => [
            'class' => 'core:AttributeMap',
            'givenName' => 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
{{SURNAME_MAPPING}}
        ],
        30 => ['class' => 'core:AttributeLimit', 'uid', 'email',
            'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
            'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname', 'sn'],
    ],
];
