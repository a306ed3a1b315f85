//! Password hashing: PBKDF2-HMAC-SHA256 with a random salt (openssl), stored as
//! `pbkdf2-sha256$iterations$salt_hex$hash_hex`.
use crate::secret::Secret;

const ITERATIONS: usize = 20_000;

pub fn hash(password: &Secret) -> Result<String, String> {
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(|e| e.to_string())?;
    let key = derive(password.expose(), &salt, ITERATIONS)?;
    Ok(format!(
        "pbkdf2-sha256${ITERATIONS}${}${}",
        hex::encode(salt),
        hex::encode(key)
    ))
}

pub fn verify(password: &Secret, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(iter), Ok(salt), Ok(expected)) = (iter.parse(), hex::decode(salt), hex::decode(hash))
    else {
        return false;
    };
    match derive(password.expose(), &salt, iter) {
        Ok(key) => openssl::memcmp::eq(&key, &expected) && key.len() == expected.len(),
        Err(_) => false,
    }
}

fn derive(password: &str, salt: &[u8], iterations: usize) -> Result<Vec<u8>, String> {
    let mut key = vec![0u8; 32];
    openssl::pkcs5::pbkdf2_hmac(
        password.as_bytes(),
        salt,
        iterations,
        openssl::hash::MessageDigest::sha256(),
        &mut key,
    )
    .map_err(|e| e.to_string())?;
    Ok(key)
}

/// A random URL-safe token (session IDs, reset codes, OIDC state).
pub fn random_token() -> String {
    let mut bytes = [0u8; 24];
    if openssl::rand::rand_bytes(&mut bytes).is_err() {
        // openssl's generator failing is fatal for security; fall back to the OS via uuid.
        return format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_right_password() {
        let h = hash(&Secret::new("pw1")).unwrap();
        assert!(verify(&Secret::new("pw1"), &h));
        assert!(!verify(&Secret::new("pw2"), &h));
        assert!(!verify(&Secret::new("pw1"), "garbage"));
    }
}
