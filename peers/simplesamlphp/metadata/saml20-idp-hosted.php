<?php
// The IdP itself: entity ID = its metadata URL (as Okta's http://www.okta.com/<id> is an ID
// of the app), signing key made per launch, RSA-SHA256.
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
];
