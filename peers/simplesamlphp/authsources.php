<?php
// Users of the Okta-like IdP peer (rendered; passwords are made up per launch).
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
{{USERS}}
    ],
];
