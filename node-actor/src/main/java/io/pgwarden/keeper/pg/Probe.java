package io.pgwarden.keeper.pg;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Is a PostgreSQL server alive at host:port? Sends a protocol 3.0 startup packet (user
 * {@code pgwarden_probe}, database postgres) and reads the first answer without authenticating: any
 * answer means alive, except an ErrorResponse with SQLSTATE 57P03 (cannot_connect_now: starting up,
 * shutting down, not yet consistent). Refused, timed out or closed without an answer means dead. The
 * managed pg_hba.conf block answers this role with a password challenge, which PostgreSQL does not log
 * when the client goes away.
 */
public final class Probe {
  private static final int PROTOCOL_3_0 = 196608;

  /** @param sqlState the SQLSTATE of an ErrorResponse answer, else null */
  public record Result(boolean alive, String detail, String sqlState, long elapsedMs) {}

  private Probe() {}

  public static Result probe(String host, int port, Duration timeout) {
    long t0 = System.nanoTime();
    int ms = (int) Math.max(1, timeout.toMillis());
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(host, port), ms);
      int left = (int) Math.max(1, ms - (System.nanoTime() - t0) / 1_000_000);
      s.setSoTimeout(left);
      OutputStream out = s.getOutputStream();
      out.write(startupPacket());
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int type = in.read();
      if (type < 0) return dead("closed the connection without an answer", null, t0);
      return switch (type) {
        case 'R' -> alive("asked to authenticate", null, t0);
        case 'E' -> {
          String code = errorCode(in);
          yield "57P03".equals(code) ? dead("cannot accept connections now (57P03)", code, t0)
              : alive("answered with error " + code, code, t0);
        }
        case 'v' -> alive("negotiated the protocol version", null, t0);
        default -> alive("answered with message type '" + (char) type + "'", null, t0);
      };
    } catch (ConnectException e) {
      return dead("connection refused", null, t0);
    } catch (SocketTimeoutException e) {
      return dead("no answer within " + ms + " ms", null, t0);
    } catch (IOException e) {
      return dead(e.getClass().getSimpleName() + ": " + e.getMessage(), null, t0);
    }
  }

  static byte[] startupPacket() {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writeInt(body, PROTOCOL_3_0);
    for (String s : new String[] {"user", HbaConfig.PROBE_USER, "database", "postgres",
        "application_name", "pgwarden_probe"}) {
      body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      body.write(0);
    }
    body.write(0);
    ByteArrayOutputStream packet = new ByteArrayOutputStream();
    writeInt(packet, body.size() + 4);
    packet.writeBytes(body.toByteArray());
    return packet.toByteArray();
  }

  /** Reads an ErrorResponse body and returns its 'C' (SQLSTATE) field. */
  private static String errorCode(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 4 || len > 64 * 1024) return "?";
    byte[] body = new byte[len - 4];
    in.readFully(body);
    int i = 0;
    while (i < body.length && body[i] != 0) {
      byte field = body[i++];
      int start = i;
      while (i < body.length && body[i] != 0) i++;
      if (field == 'C') return new String(body, start, i - start, StandardCharsets.US_ASCII);
      i++;
    }
    return "?";
  }

  private static void writeInt(ByteArrayOutputStream o, int v) {
    o.write(v >>> 24);
    o.write(v >>> 16);
    o.write(v >>> 8);
    o.write(v);
  }

  private static Result alive(String detail, String code, long t0) {
    return new Result(true, detail, code, (System.nanoTime() - t0) / 1_000_000);
  }

  private static Result dead(String detail, String code, long t0) {
    return new Result(false, detail, code, (System.nanoTime() - t0) / 1_000_000);
  }
}
