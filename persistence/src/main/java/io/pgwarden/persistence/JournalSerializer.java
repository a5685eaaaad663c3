package io.pgwarden.persistence;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import io.pgwarden.model.JournalEvent;
import java.io.NotSerializableException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Stores journal events as readable JSON (psql: {@code convert_from(event_payload, 'UTF8')}) under a
 * manifest that is the event's stable type name, never its class name, so classes can move freely.
 */
public final class JournalSerializer extends SerializerWithStringManifest {
  public static final int IDENTIFIER = 7_301;
  private static final Map<Class<?>, String> NAMES = new java.util.HashMap<>();
  private static final Map<String, Class<?>> TYPES = new TreeMap<>();

  static {
    for (JsonSubTypes.Type t : JournalEvent.class.getAnnotation(JsonSubTypes.class).value()) {
      NAMES.put(t.value(), t.name());
      TYPES.put(t.name(), t.value());
    }
  }

  public JournalSerializer(ExtendedActorSystem system) {}

  public JournalSerializer() {}

  /** The stable type name of an event class, as stored in the journal. */
  public static String typeName(Class<?> type) {
    String name = NAMES.get(type);
    if (name == null) throw new IllegalArgumentException("no journal type name for " + type.getName());
    return name;
  }

  public static Map<String, Class<?>> types() {
    return java.util.Collections.unmodifiableMap(TYPES);
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return typeName(o.getClass());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (!(o instanceof JournalEvent e)) {
      throw new IllegalArgumentException("not a journal event: " + o.getClass().getName());
    }
    return Json.writeEvent(e);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!TYPES.containsKey(manifest)) {
      throw new NotSerializableException("unknown journal event type '" + manifest + "'");
    }
    return Json.readEvent(bytes);
  }
}
