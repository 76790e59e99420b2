package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugin.Protos;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * grpc-transcode (APISIX 3.x, priority 506): an HTTP/JSON request becomes a unary gRPC call to the
 * route's {@code scheme: grpc} upstream, and the answer JSON.
 *
 * <p>The method ({@code service}, {@code method}) is looked up in the {@code protos} object {@code
 * proto_id} when the route is compiled (compiled once per config change by the config compiler); a
 * missing proto, a method not in it, or a streaming method refuses the route. Access: the request
 * message is made from the JSON body (POST, PUT, PATCH with {@code application/json}), a form body
 * (POST), or the query arguments (a repeated field from repeated arguments), with protobuf's JSON
 * mapping (names as in the proto or lowerCamel, enums by name or number, unknown fields ignored);
 * it goes as {@code POST /<service>/<method>}, {@code content-type: application/grpc}, one gRPC
 * frame, {@code grpc-timeout: <deadline>m} when {@code deadline > 0}. A body that does not map is
 * 400.
 *
 * <p>Response (2xx only, as APISIX): {@code content-type: application/json}, the message as JSON
 * (proto field names; {@code pb_option}: enums by name or number, fields at their defaults shown
 * unless {@code no_default_values}). A {@code grpc-status} other than 0 in the head (a
 * trailers-only answer) sets APISIX's HTTP status for it; with {@code show_status_in_body} the body
 * is {@code {"error": {"code", "message", "details"}}} from {@code grpc-status-details-bin} (a
 * {@code google.rpc.Status}; its details decoded as {@code status_detail_type} of the proto when
 * given, else {@code type_url} and base64 {@code value}), or from {@code grpc-status} and {@code
 * grpc-message}. The node's trailers ({@code grpc-status: 0}) are not passed on.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class GrpcTranscodePlugin implements Plugin<GrpcTranscodePlugin.Config> {

  /** The configuration; schema {@code grpc-transcode.json}. */
  public record Config(
      JsonNode protoId,
      String service,
      String method,
      double deadline,
      List<String> pbOption,
      boolean showStatusInBody,
      String statusDetailType) {}

  @Override
  public String name() {
    return "grpc-transcode";
  }

  @Override
  public int priority() {
    return 506;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    Objects.requireNonNull(Status.TYPE); // made here, off the event loops
    var protoId = conf.protoId().asText();
    var proto = scope.services().proto(protoId);
    if (proto == null) {
      throw new IllegalArgumentException(
          "proto_id: \"" + protoId + "\" is not a proto that compiled (expected: a protos id)");
    }
    var method = proto.method(conf.service(), conf.method());
    if (method == null) {
      throw new IllegalArgumentException(
          "service/method: \""
              + conf.service()
              + "/"
              + conf.method()
              + "\" is not in proto "
              + protoId
              + " (expected: one of "
              + methods(proto)
              + ")");
    }
    if (method.isClientStreaming() || method.isServerStreaming()) {
      throw new IllegalArgumentException(
          "method: \"" + conf.method() + "\" is a streaming method (expected: a unary method)");
    }
    Descriptors.Descriptor detailType = null;
    if (conf.statusDetailType() != null) {
      detailType = findMessage(proto, conf.statusDetailType());
      if (detailType == null) {
        throw new IllegalArgumentException(
            "status_detail_type: \""
                + conf.statusDetailType()
                + "\" is not a message of proto "
                + protoId);
      }
    }
    var options = conf.pbOption() == null ? List.<String>of() : conf.pbOption();
    var printer =
        JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
    if (options.contains("enum_as_value")) {
      printer = printer.printingEnumsAsInts();
    }
    boolean proto3 = method.getFile().toProto().getSyntax().equals("proto3");
    boolean defaults =
        !options.contains("no_default_values")
            && (proto3
                || options.contains("use_default_values")
                || options.contains("use_default_metatable"));
    if (defaults) {
      printer = printer.includingDefaultValueFields();
    }
    var timeout = conf.deadline() > 0 ? ((long) Math.ceil(conf.deadline())) + "m" : null;
    // lua-protobuf's default (APISIX's): 64-bit integers as JSON numbers; protobuf's JSON mapping
    // writes them as strings, which int64_as_string (and int64_as_hexstring, not rendered in hex
    // here) keep.
    boolean int64AsNumber =
        !options.contains("int64_as_string") && !options.contains("int64_as_hexstring");
    return new Instance(
        method, printer, timeout, conf.showStatusInBody(), detailType, int64AsNumber);
  }

  private static String methods(Protos.Compiled proto) {
    var out = new StringBuilder();
    for (var f : proto.files()) {
      for (var s : f.getServices()) {
        for (var m : s.getMethods()) {
          out.append(out.isEmpty() ? "" : ", ").append(s.getFullName()).append('/');
          out.append(m.getName());
        }
      }
    }
    return out.isEmpty() ? "no method" : out.toString();
  }

  private static Descriptors.Descriptor findMessage(Protos.Compiled proto, String name) {
    for (var f : proto.files()) {
      var pkg = f.getPackage();
      var simple =
          !pkg.isEmpty() && name.startsWith(pkg + ".") ? name.substring(pkg.length() + 1) : name;
      var m = f.findMessageTypeByName(simple);
      if (m != null) {
        return m;
      }
    }
    return null;
  }

  /** APISIX's HTTP status for a gRPC status. */
  static int httpStatusOf(int grpcStatus) {
    return switch (grpcStatus) {
      case 1 -> 499;
      case 2, 13, 15 -> 500;
      case 3, 9, 11 -> 400;
      case 4 -> 504;
      case 5 -> 404;
      case 6, 10 -> 409;
      case 7 -> 403;
      case 8 -> 429;
      case 12 -> 501;
      case 14 -> 503;
      case 16 -> 401;
      default -> 599;
    };
  }

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * google.rpc.Status, what grpc-status-details-bin carries: compiled when a route with this plugin
   * is ({@link #compile}, on the config thread), not when the plugins are listed at start (protobuf
   * is ~200 classes) nor on an event loop at a first error.
   */
  private static final class Status {
    static final Descriptors.Descriptor TYPE =
        Protos.compile(
                "google-rpc-status",
                """
                syntax = "proto3";
                package google.rpc;
                import "google/protobuf/any.proto";
                message Status {
                  int32 code = 1;
                  string message = 2;
                  repeated google.protobuf.Any details = 3;
                }
                """)
            .files()
            .get(0)
            .findMessageTypeByName("Status");
  }

  private static final class Call {
    boolean error;
    String status;
    String message;
    String details;
    boolean grpcWeb; // the client sent X-Grpc-Web: APISIX then reads no frame prefix
  }

  private static final class Instance implements PluginInstance {
    private final Descriptors.MethodDescriptor method;
    private final JsonFormat.Printer printer;
    private final String timeout;
    private final boolean showStatusInBody;
    private final Descriptors.Descriptor detailType;
    private final String path;
    private final boolean int64AsNumber;

    Instance(
        Descriptors.MethodDescriptor method,
        JsonFormat.Printer printer,
        String timeout,
        boolean showStatusInBody,
        Descriptors.Descriptor detailType,
        boolean int64AsNumber) {
      this.int64AsNumber = int64AsNumber;
      this.method = method;
      this.printer = printer;
      this.timeout = timeout;
      this.showStatusInBody = showStatusInBody;
      this.detailType = detailType;
      this.path = "/" + method.getService().getFullName() + "/" + method.getName();
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var req = ctx.request();
      var h = req.headers();
      var type = h.get(HttpHeaderNames.CONTENT_TYPE, "");
      var m = req.method();
      GrpcTranscodeJson.Source source;
      if (type.contains("application/json")
          && (m.equals(HttpMethod.POST)
              || m.equals(HttpMethod.PUT)
              || m.equals(HttpMethod.PATCH))) {
        source = GrpcTranscodeJson.Source.JSON;
      } else if (m.equals(HttpMethod.POST)) {
        source = GrpcTranscodeJson.Source.FORM;
      } else {
        source = GrpcTranscodeJson.Source.ARGS;
      }
      var args = new QueryStringDecoder(req.uri()).parameters();
      var call = new Call();
      call.grpcWeb = h.contains("x-grpc-web");
      ctx.state(this, call);
      req.setMethod(HttpMethod.POST);
      req.setUri(path);
      h.set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
      h.remove(HttpHeaderNames.ACCEPT_ENCODING);
      if (timeout != null) {
        h.set("grpc-timeout", timeout);
      }
      ctx.requestBodyStream(
          new GrpcTranscodeJson.RequestStream(method.getInputType(), source, args));
      return Outcome.CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      Call call = ctx.state(this);
      if (call == null || response.status().code() >= 300) {
        return;
      }
      var h = response.headers();
      h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
      var status = h.get("grpc-status");
      if (status != null && !status.equals("0")) {
        call.error = true;
        call.status = status;
        call.message = h.get("grpc-message");
        call.details = h.get("grpc-status-details-bin");
        int code;
        try {
          code = Integer.parseInt(status);
        } catch (NumberFormatException e) {
          code = -1;
        }
        response.setStatus(HttpResponseStatus.valueOf(httpStatusOf(code)));
      }
      for (var name : List.of("grpc-status", "grpc-message", "grpc-status-details-bin")) {
        h.remove(name);
      }
    }

    @Override
    public boolean wantsBody(PluginContext ctx) {
      return ctx.state(this) != null;
    }

    @Override
    public byte[] bodyFilter(PluginContext ctx, byte[] body) {
      Call call = ctx.state(this);
      if (call == null) {
        return body;
      }
      if (call.error) {
        return showStatusInBody ? errorBody(call) : body;
      }
      try {
        int skip = call.grpcWeb ? 0 : 5;
        if (body.length < skip) {
          return "{}".getBytes(StandardCharsets.UTF_8);
        }
        var message =
            DynamicMessage.parseFrom(
                method.getOutputType(),
                com.google.protobuf.CodedInputStream.newInstance(body, skip, body.length - skip));
        var json = printer.print(message);
        if (int64AsNumber) {
          var tree = JSON.readTree(json);
          GrpcTranscodeJson.int64AsNumbers(tree, method.getOutputType());
          return JSON.writeValueAsBytes(tree);
        }
        return json.getBytes(StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        return Outcome.errorBody("failed to decode the response: " + e.getMessage());
      }
    }

    private byte[] errorBody(Call call) {
      var error = JsonNodeFactory.instance.objectNode();
      try {
        if (call.details != null) {
          var status =
              DynamicMessage.parseFrom(
                  Status.TYPE, Base64.getDecoder().decode(GrpcTranscodeJson.pad(call.details)));
          error.put("code", (Integer) status.getField(Status.TYPE.findFieldByName("code")));
          error.put("message", (String) status.getField(Status.TYPE.findFieldByName("message")));
          var details = error.putArray("details");
          for (var any : (List<?>) status.getField(Status.TYPE.findFieldByName("details"))) {
            details.add(detail((DynamicMessage) any));
          }
        } else {
          error.put("code", Integer.parseInt(call.status));
          error.put(
              "message", call.message == null ? "" : GrpcTranscodeJson.decodeMessage(call.message));
        }
      } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
        return Outcome.errorBody("failed to decode grpc-status-details-bin");
      }
      var root = JsonNodeFactory.instance.objectNode();
      root.set("error", error);
      return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    private JsonNode detail(DynamicMessage any) throws InvalidProtocolBufferException {
      var d = any.getDescriptorForType();
      var typeUrl = (String) any.getField(d.findFieldByName("type_url"));
      var value = (com.google.protobuf.ByteString) any.getField(d.findFieldByName("value"));
      if (detailType != null) {
        try {
          return JSON.readTree(printer.print(DynamicMessage.parseFrom(detailType, value)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalArgumentException(e);
        }
      }
      ObjectNode raw = JsonNodeFactory.instance.objectNode();
      raw.put("type_url", typeUrl);
      raw.put("value", Base64.getEncoder().encodeToString(value.toByteArray()));
      return raw;
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      // Only to take the node's grpc-* trailers off: a JSON client has no use for them.
      return ctx.state(this) == null ? null : TRAILERS_OFF;
    }
  }

  private static final BodyStream TRAILERS_OFF =
      new BodyStream() {
        @Override
        public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
          return in;
        }

        @Override
        public ByteBuf finish(ByteBufAllocator alloc) {
          return Unpooled.EMPTY_BUFFER;
        }

        @Override
        public ByteBuf finish(ByteBufAllocator alloc, HttpHeaders trailers) {
          trailers.remove("grpc-status").remove("grpc-message").remove("grpc-status-details-bin");
          return Unpooled.EMPTY_BUFFER;
        }

        @Override
        public void abort() {}
      };
}
