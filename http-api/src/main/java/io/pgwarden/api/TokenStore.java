package io.pgwarden.api;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator tokens the API accepts, kept in a text file, one token a line:
 * {@code <name> <sha256-hex> <created, ISO-8601 UTC>}; lines starting with '#' are comments. Only the
 * hash of a token is stored. The file must be readable and writable by its owner only (mode 0600):
 * {@link #open} refuses a file that its group or others may access, with a message saying how to fix it.
 *
 * <p>A running server sees tokens created or revoked later: {@link #verify} re-reads the file when it
 * changed. If a re-read fails (permissions opened up, file removed or broken), no operator token is
 * accepted until the file is right again.
 */
public final class TokenStore {
  private static final Logger LOG = LoggerFactory.getLogger(TokenStore.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");
  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
  private static final String HEADER = """
      # pgwarden operator tokens: <name> <sha256 of the token, hex> <created, UTC>.
      # Managed by 'pgwarden token create' / 'pgwarden token revoke'. Keep this file mode 0600.
      """;

  /** One token: its name (what the journal records as the actor), its SHA-256, when it was made. */
  public record Entry(String name, String sha256, Instant created) {
    public Entry {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("token name must match " + NAME.pattern() + ", got '" + name + "'");
      }
      if (sha256 == null || !HASH.matcher(sha256).matches()) {
        throw new IllegalArgumentException("token hash must be 64 lowercase hex digits");
      }
      Objects.requireNonNull(created, "created");
    }
  }

  private record Snapshot(Object version, List<Entry> entries, List<byte[]> hashes) {}

  private final Path file;
  private volatile Snapshot snapshot;

  private TokenStore(Path file, Snapshot snapshot) {
    this.file = file;
    this.snapshot = snapshot;
  }

  /**
   * Opens the token file for a server.
   *
   * @throws IllegalStateException when the file is missing, unreadable, malformed, or accessible to
   *     its group or others; the message names the file and the fix
   */
  public static TokenStore open(Path file) {
    return new TokenStore(file, load(file));
  }

  public Path file() {
    return file;
  }

  /** The tokens as last read. */
  public List<Entry> entries() {
    refresh();
    return snapshot.entries();
  }

  /**
   * The name of the operator token {@code token} is, if any. Every stored hash is compared, in constant
   * time each, whatever matches.
   */
  public Optional<String> verify(String token) {
    if (token == null || !token.startsWith(Credentials.OPERATOR_PREFIX)) return Optional.empty();
    refresh();
    Snapshot s = snapshot;
    byte[] presented = Credentials.sha256(token);
    String found = null;
    for (int i = 0; i < s.hashes().size(); i++) {
      if (MessageDigest.isEqual(presented, s.hashes().get(i)) && found == null) found = s.entries().get(i).name();
    }
    return Optional.ofNullable(found);
  }

  private void refresh() {
    Object now = version(file);
    if (Objects.equals(now, snapshot.version())) return;
    synchronized (this) {
      if (Objects.equals(version(file), snapshot.version())) return;
      try {
        snapshot = load(file);
        LOG.info("operator token file {} re-read: {} token(s)", file, snapshot.entries().size());
      } catch (IllegalStateException e) {
        LOG.error("operator tokens disabled until the token file is fixed: {}", e.getMessage());
        snapshot = new Snapshot(now, List.of(), List.of());
      }
    }
  }

  /**
   * Makes a new operator token named {@code name} and records its hash in {@code file} (created with
   * mode 0600 when missing, with its parent directories).
   *
   * @return the token's plaintext: shown once, stored nowhere
   * @throws IllegalArgumentException for a bad name or a name already in use
   * @throws IllegalStateException when the file exists but is unsafe or unreadable, or cannot be written
   */
  public static String create(Path file, String name) {
    return create(file, name, Instant.now());
  }

  public static String create(Path file, String name, Instant now) {
    String token = Credentials.newOperatorToken();
    Entry entry = new Entry(name, Credentials.sha256Hex(token), now.truncatedTo(ChronoUnit.SECONDS));
    rewrite(file, entries -> {
      if (entries.stream().anyMatch(e -> e.name().equals(name))) {
        throw new IllegalArgumentException("an operator token named '" + name + "' exists already in " + file
            + ": pick another name, or revoke it first");
      }
      entries.add(entry);
    });
    return token;
  }

  /** Removes the token named {@code name}; false when there was none. */
  public static boolean revoke(Path file, String name) {
    boolean[] removed = {false};
    if (!Files.exists(file)) return false;
    rewrite(file, entries -> removed[0] = entries.removeIf(e -> e.name().equals(name)));
    return removed[0];
  }

  /** The entries of a token file, after checking that it is private. */
  public static List<Entry> read(Path file) {
    return load(file).entries();
  }

  /**
   * Refuses a file that its group or others may read, write or execute.
   *
   * @throws IllegalStateException naming the file, its mode and the fix
   */
  public static void checkPermissions(Path file) {
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view == null) return; // not a POSIX file system: nothing to check
    try {
      Set<PosixFilePermission> perms = view.readAttributes().permissions();
      Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
      for (PosixFilePermission p : perms) {
        if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) open.add(p);
      }
      if (!open.isEmpty()) {
        throw new IllegalStateException("the operator token file " + file + " is accessible to its group or others"
            + " (mode " + PosixFilePermissions.toString(perms) + "); it must be private: run 'chmod 600 " + file + "'");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the permissions of the operator token file " + file + ": " + e.getMessage(), e);
    }
  }

  private static Object version(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return List.of(String.valueOf(a.fileKey()), a.lastModifiedTime().toMillis(), a.size());
    } catch (IOException e) {
      return "missing";
    }
  }

  private static Snapshot load(Path file) {
    Object version = version(file);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("the operator token file " + file + " does not exist: create a token with"
          + " 'pgwarden token create --name NAME' (or 'pgwarden create monitor')");
    }
    checkPermissions(file);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("the operator token file " + file + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the operator token file " + file + ": " + e.getMessage(), e);
    }
    List<Entry> entries = new ArrayList<>();
    int n = 0;
    for (String line : lines) {
      n++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) continue;
      String[] f = t.split("\\s+");
      try {
        if (f.length != 3) throw new IllegalArgumentException("expected 3 fields: name, sha256, created");
        entries.add(new Entry(f[0], f[1], Instant.parse(f[2])));
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw new IllegalStateException("the operator token file " + file + " is malformed at line " + n + ": "
            + e.getMessage(), e);
      }
    }
    List<byte[]> hashes = entries.stream().map(e -> HexFormat.of().parseHex(e.sha256())).toList();
    return new Snapshot(version, List.copyOf(entries), hashes);
  }

  private interface Edit {
    void apply(List<Entry> entries);
  }

  /** File locks are held per JVM: writers inside one JVM also queue here. */
  private static final Object WRITERS = new Object();

  private static void rewrite(Path file, Edit edit) {
    synchronized (WRITERS) {
      rewriteLocked(file, edit);
    }
  }

  private static void rewriteLocked(Path file, Edit edit) {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    try {
      Files.createDirectories(dir);
      Path lockFile = dir.resolve(abs.getFileName() + ".lock");
      try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = ch.lock(); // released when the channel closes
        assert lock.isValid();
        List<Entry> entries = Files.exists(abs) ? new ArrayList<>(load(abs).entries()) : new ArrayList<>();
        edit.apply(entries);
        StringBuilder text = new StringBuilder(HEADER);
        for (Entry e : entries) text.append(e.name()).append(' ').append(e.sha256()).append(' ').append(e.created()).append('\n');
        Path tmp = privateTempFile(dir, abs.getFileName().toString());
        try {
          Files.writeString(tmp, text, StandardCharsets.UTF_8);
          try {
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
          }
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the operator token file " + file + ": " + e.getMessage(), e);
    }
  }

  private static Path privateTempFile(Path dir, String base) throws IOException {
    if (Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class)) {
      return Files.createTempFile(dir, "." + base, ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return Files.createTempFile(dir, "." + base, ".tmp");
  }
}
