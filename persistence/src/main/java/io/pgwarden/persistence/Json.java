package io.pgwarden.persistence;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.pgwarden.model.JournalEvent;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON dialect of pgwarden: snake_case field names, nulls left out, unknown fields tolerated
 * (so an older build reads a newer journal's extra fields). Used by the journal, the HTTP API and the CLI.
 */
public final class Json {
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .addModule(new Jdk8Module())
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .build();

  private Json() {}

  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  public static byte[] writeEvent(JournalEvent event) {
    try {
      return MAPPER.writerFor(JournalEvent.class).writeValueAsBytes(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write event " + event.getClass().getSimpleName(), e);
    }
  }

  public static JournalEvent readEvent(byte[] bytes) {
    try {
      return MAPPER.readerFor(JournalEvent.class).readValue(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read journal event " + new String(bytes, java.nio.charset.StandardCharsets.UTF_8), e);
    }
  }

  public static <T> T read(String text, Class<T> type) {
    try {
      return MAPPER.readValue(text, type);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
