package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.archway.dataplane.plugin.BodyStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * grpc-transcode's JSON side: the request message made from a JSON body, a form or the query
 * arguments, framed for gRPC as the body streams in; and the answer's 64-bit integers as JSON
 * numbers.
 */
final class GrpcTranscodeJson {

  private GrpcTranscodeJson() {}

  /**
   * Turns the 64-bit integers of {@code node} (the JSON of a {@code type} message, proto field
   * names) from protobuf's JSON strings into numbers, nested messages and maps included; the
   * well-known types keep their own JSON forms.
   */
  static void int64AsNumbers(JsonNode node, Descriptors.Descriptor type) {
    if (!(node instanceof ObjectNode obj) || type.getFullName().startsWith("google.protobuf.")) {
      return;
    }
    for (var f : type.getFields()) {
      var v = obj.get(f.getName());
      if (v == null) {
        continue;
      }
      if (f.isMapField()) {
        var valueField = f.getMessageType().findFieldByName("value");
        if (v instanceof ObjectNode map) {
          for (var name : iterable(map.fieldNames())) {
            map.set(name, int64Value(map.get(name), valueField));
          }
        }
      } else if (f.isRepeated() && v instanceof ArrayNode a) {
        for (int i = 0; i < a.size(); i++) {
          a.set(i, int64Value(a.get(i), f));
        }
      } else {
        obj.set(f.getName(), int64Value(v, f));
      }
    }
  }

  private static JsonNode int64Value(JsonNode v, Descriptors.FieldDescriptor f) {
    if (f.getJavaType() == Descriptors.FieldDescriptor.JavaType.LONG && v.isTextual()) {
      try {
        return JsonNodeFactory.instance.numberNode(new java.math.BigInteger(v.asText()));
      } catch (NumberFormatException e) {
        return v;
      }
    }
    if (f.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
      int64AsNumbers(v, f.getMessageType());
    }
    return v;
  }

  private static <T> Iterable<T> iterable(java.util.Iterator<T> it) {
    var list = new java.util.ArrayList<T>();
    it.forEachRemaining(list::add);
    return list;
  }

  enum Source {
    JSON,
    FORM,
    ARGS
  }

  /**
   * The request body (JSON or a form; with the query arguments otherwise) gathered, then made into
   * the request message and its gRPC frame at its end.
   */
  static final class RequestStream implements BodyStream {
    private final Descriptors.Descriptor type;
    private final Source source;
    private final Map<String, List<String>> args;
    private CompositeByteBuf body;

    RequestStream(Descriptors.Descriptor type, Source source, Map<String, List<String>> args) {
      this.type = type;
      this.source = source;
      this.args = args;
    }

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      if (source == Source.ARGS || !in.isReadable()) {
        in.release();
        return Unpooled.EMPTY_BUFFER;
      }
      if (body == null) {
        body = alloc.compositeBuffer(Integer.MAX_VALUE);
      }
      body.addComponent(true, in);
      return Unpooled.EMPTY_BUFFER;
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      String text = null;
      if (body != null) {
        text = body.toString(StandardCharsets.UTF_8);
        body.release();
        body = null;
      }
      var frame = encode(type, source, args, text);
      return Unpooled.wrappedBuffer(frame);
    }

    @Override
    public void abort() {
      if (body != null) {
        body.release();
        body = null;
      }
    }
  }

  /**
   * The gRPC frame of the request message made from {@code body} or {@code args}.
   *
   * @throws IllegalArgumentException when they do not map to the message (400)
   */
  static byte[] encode(
      Descriptors.Descriptor type, Source source, Map<String, List<String>> args, String body) {
    var builder = DynamicMessage.newBuilder(type);
    try {
      String json;
      if (source == Source.JSON && body != null && !body.isBlank()) {
        json = body;
      } else {
        var from =
            source == Source.FORM && body != null
                ? new QueryStringDecoder(body, false).parameters()
                : args;
        json = argsJson(type, from).toString();
      }
      JsonFormat.parser().ignoringUnknownFields().merge(json, builder);
      var message = builder.build().toByteArray();
      var frame = ByteBuffer.allocate(5 + message.length);
      frame.put((byte) 0).putInt(message.length).put(message);
      return frame.array();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalArgumentException("failed to encode request data to protobuf", e);
    }
  }

  /** The arguments of the message's fields as JSON: strings, arrays for repeated fields. */
  static ObjectNode argsJson(Descriptors.Descriptor type, Map<String, List<String>> args) {
    var out = JsonNodeFactory.instance.objectNode();
    args.forEach(
        (name, values) -> {
          var f = type.findFieldByName(name);
          if (f == null) {
            return;
          }
          if (f.isRepeated()) {
            ArrayNode a = out.putArray(name);
            values.forEach(a::add);
          } else if (!values.isEmpty()) {
            out.put(name, values.get(0));
          }
        });
    return out;
  }

  static String pad(String base64) {
    var s = base64.strip();
    return s + "==".substring(0, (4 - s.length() % 4) % 4 == 3 ? 2 : (4 - s.length() % 4) % 4);
  }

  /** grpc-message is percent-encoded. */
  static String decodeMessage(String m) {
    try {
      return QueryStringDecoder.decodeComponent(m.replace("+", "%2B"));
    } catch (IllegalArgumentException e) {
      return m;
    }
  }
}
