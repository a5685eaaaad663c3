package io.pgwarden.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Bearer credentials: operator tokens ({@value #OPERATOR_PREFIX}…) and node credentials
 * ({@value #NODE_PREFIX}…), each 32 random bytes in base64url after its prefix. Only their SHA-256 is
 * ever stored; the plaintext is shown once, when it is made.
 */
public final class Credentials {
  public static final String OPERATOR_PREFIX = "pgwo_";
  public static final String NODE_PREFIX = "pgwn_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Credentials() {}

  public static String newOperatorToken() {
    return OPERATOR_PREFIX + randomPart();
  }

  /** A fresh node credential; the controller keeps {@link #sha256Hex} of it (NodeRegistered.credentialHash). */
  public static String newNodeCredential() {
    return NODE_PREFIX + randomPart();
  }

  private static String randomPart() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The lowercase hex SHA-256 of the credential's UTF-8 bytes. */
  public static String sha256Hex(String credential) {
    return HexFormat.of().formatHex(sha256(credential));
  }

  static byte[] sha256(String credential) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(credential.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Compares two hex hashes in time independent of where they differ. */
  public static boolean sameHash(String hexA, String hexB) {
    if (hexA == null || hexB == null) return false;
    return MessageDigest.isEqual(hexA.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII),
        hexB.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
  }
}
