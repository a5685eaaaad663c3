package io.pgwarden.keeper;

import io.pgwarden.model.NodeState;
import io.pgwarden.model.TermSeq;
import io.pgwarden.persistence.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The keeper's persisted state ({@link Persisted}: the state reached, the last goal executed, the
 * highest term known) in {@code state.json} of the keeper's directory. Written atomically: a temporary
 * sibling, fsync, rename over the file, fsync of the directory, so that after a crash the file holds
 * either the old or the new state, whole. Read back at start into KeeperStarted.
 */
public final class StateFile {
  public static final String NAME = "state.json";

  /** The JSON shape on disk. */
  record OnDisk(String current, TermSeq executed, long knownTerm) {}

  private final Path file;

  public StateFile(Path dir) {
    this.file = dir.resolve(NAME);
  }

  public Path path() {
    return file;
  }

  /**
   * The persisted state; {@link Persisted#NEW} when there is no file yet.
   *
   * @throws IllegalStateException when the file exists but cannot be read as a state (never written by
   *     this code: it writes atomically), naming the file
   */
  public Persisted read() {
    if (!Files.exists(file)) return Persisted.NEW;
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the keeper state " + file + ": " + e.getMessage(), e);
    }
    try {
      OnDisk d = Json.MAPPER.readValue(text, OnDisk.class);
      if (d.current() == null) throw new IllegalArgumentException("no current state");
      return new Persisted(NodeState.fromWire(d.current()), d.executed(), d.knownTerm());
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("the keeper state " + file + " is unreadable (" + e.getMessage() + "); it is"
          + " written atomically, so the disk or someone's edit damaged it: restore it, or drop the node and create it"
          + " again", e);
    }
  }

  public void write(Persisted p) {
    byte[] bytes = (Json.write(new OnDisk(p.current().wireName(), p.executed(), p.knownTerm())) + "\n")
        .getBytes(StandardCharsets.UTF_8);
    Path dir = file.getParent();
    Path tmp = dir.resolve("." + NAME + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
        ch.force(true);
      }
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot rename atomically", e);
      }
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the keeper state " + file + ": " + e.getMessage(), e);
    }
  }
}
