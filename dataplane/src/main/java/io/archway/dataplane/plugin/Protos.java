package io.archway.dataplane.plugin;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.squareup.wire.Syntax;
import com.squareup.wire.schema.Field;
import com.squareup.wire.schema.Location;
import com.squareup.wire.schema.internal.parser.EnumElement;
import com.squareup.wire.schema.internal.parser.FieldElement;
import com.squareup.wire.schema.internal.parser.MessageElement;
import com.squareup.wire.schema.internal.parser.ProtoParser;
import com.squareup.wire.schema.internal.parser.TypeElement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code protos} objects grpc-transcode names by {@code proto_id}, compiled once per config
 * change into protobuf-java descriptors: a {@code .proto} source is parsed in the JVM by Wire's
 * schema parser (no protoc) and turned into a {@code FileDescriptorProto} that protobuf-java links
 * (type names resolved by its scoping rules); APISIX's other form, a base64 {@code
 * FileDescriptorSet} (protoc's {@code --descriptor_set_out}), is read as it is. Imports may name
 * protobuf's well-known types ({@code google/protobuf/*.proto}), and the files of a descriptor set
 * each other.
 */
public final class Protos {

  /** One compiled proto: its files, the last being the one whose services are looked up first. */
  public record Compiled(String id, List<FileDescriptor> files) {

    /**
     * The method {@code service}/{@code method}: {@code service} by full name ({@code
     * helloworld.Greeter}) or, when unique, by simple name; {@code null} when there is none.
     */
    public Descriptors.MethodDescriptor method(String service, String method) {
      Descriptors.ServiceDescriptor found = null;
      for (var f : files) {
        for (var s : f.getServices()) {
          if (s.getFullName().equals(service)) {
            found = s;
          } else if (found == null && s.getName().equals(service)) {
            found = s;
          }
        }
      }
      return found == null ? null : found.findMethodByName(method);
    }
  }

  private static final Map<String, FileDescriptor> WELL_KNOWN = wellKnown();

  private Protos() {}

  private static Map<String, FileDescriptor> wellKnown() {
    var m = new HashMap<String, FileDescriptor>();
    for (var f :
        List.of(
            com.google.protobuf.AnyProto.getDescriptor(),
            com.google.protobuf.ApiProto.getDescriptor(),
            com.google.protobuf.DurationProto.getDescriptor(),
            com.google.protobuf.EmptyProto.getDescriptor(),
            com.google.protobuf.FieldMaskProto.getDescriptor(),
            com.google.protobuf.SourceContextProto.getDescriptor(),
            com.google.protobuf.StructProto.getDescriptor(),
            com.google.protobuf.TimestampProto.getDescriptor(),
            com.google.protobuf.TypeProto.getDescriptor(),
            com.google.protobuf.WrappersProto.getDescriptor(),
            com.google.protobuf.DescriptorProtos.getDescriptor())) {
      m.put(f.getName(), f);
    }
    return Map.copyOf(m);
  }

  /**
   * Compiles a proto's {@code content}: {@code .proto} source, or a base64 descriptor set.
   *
   * @throws IllegalArgumentException saying what is wrong (a parse error with its line, an unknown
   *     type, an import that is not a well-known type)
   */
  public static Compiled compile(String id, String content) {
    if (content == null || content.isBlank()) {
      throw new IllegalArgumentException("content: empty (expected: .proto source)");
    }
    var set = descriptorSet(content);
    if (set != null) {
      return fromSet(id, set);
    }
    FileDescriptorProto proto;
    try {
      proto = fromSource(id, content);
    } catch (IllegalStateException | IllegalArgumentException e) {
      throw new IllegalArgumentException("content: " + e.getMessage(), e);
    }
    var deps = new ArrayList<FileDescriptor>();
    for (var d : proto.getDependencyList()) {
      var known = WELL_KNOWN.get(d);
      if (known == null) {
        throw new IllegalArgumentException(
            "content: import \"" + d + "\" (expected: google/protobuf/*.proto well-known types)");
      }
      deps.add(known);
    }
    try {
      var file = FileDescriptor.buildFrom(proto, deps.toArray(FileDescriptor[]::new));
      return new Compiled(id, List.of(file));
    } catch (Descriptors.DescriptorValidationException e) {
      throw new IllegalArgumentException("content: " + e.getMessage(), e);
    }
  }

  /** The descriptor set {@code content} is the base64 of, or null when it is not one. */
  private static FileDescriptorSet descriptorSet(String content) {
    var text = content.strip();
    if (text.contains("{") || text.contains(";")) {
      return null; // .proto source
    }
    try {
      var set = FileDescriptorSet.parseFrom(Base64.getMimeDecoder().decode(text));
      return set.getFileCount() == 0 ? null : set;
    } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static Compiled fromSet(String id, FileDescriptorSet set) {
    var built = new HashMap<String, FileDescriptor>(WELL_KNOWN);
    var files = new ArrayList<FileDescriptor>();
    for (var p : set.getFileList()) {
      var deps = new ArrayList<FileDescriptor>();
      for (var d : p.getDependencyList()) {
        var f = built.get(d);
        if (f == null) {
          throw new IllegalArgumentException(
              "content: " + p.getName() + " imports \"" + d + "\", not in the descriptor set");
        }
        deps.add(f);
      }
      try {
        var f = FileDescriptor.buildFrom(p, deps.toArray(FileDescriptor[]::new));
        built.put(p.getName(), f);
        files.add(f);
      } catch (Descriptors.DescriptorValidationException e) {
        throw new IllegalArgumentException("content: " + e.getMessage(), e);
      }
    }
    return new Compiled(id, List.copyOf(files));
  }

  static FileDescriptorProto fromSource(String id, String content) {
    var file = ProtoParser.Companion.parse(Location.Companion.get(id + ".proto"), content);
    boolean proto3 = file.getSyntax() == Syntax.PROTO_3;
    var b = FileDescriptorProto.newBuilder().setName(id + ".proto");
    b.setSyntax(proto3 ? "proto3" : "proto2");
    if (file.getPackageName() != null) {
      b.setPackage(file.getPackageName());
    }
    b.addAllDependency(file.getImports()).addAllDependency(file.getPublicImports());
    for (var t : file.getTypes()) {
      if (t instanceof MessageElement m) {
        b.addMessageType(message(m, proto3));
      } else if (t instanceof EnumElement e) {
        b.addEnumType(enumType(e));
      }
    }
    for (var s : file.getServices()) {
      var sb = ServiceDescriptorProto.newBuilder().setName(s.getName());
      for (var rpc : s.getRpcs()) {
        sb.addMethod(
            MethodDescriptorProto.newBuilder()
                .setName(rpc.getName())
                .setInputType(rpc.getRequestType())
                .setOutputType(rpc.getResponseType())
                .setClientStreaming(rpc.getRequestStreaming())
                .setServerStreaming(rpc.getResponseStreaming()));
      }
      b.addService(sb);
    }
    return b.build();
  }

  private static EnumDescriptorProto enumType(EnumElement e) {
    var b = EnumDescriptorProto.newBuilder().setName(e.getName());
    for (var c : e.getConstants()) {
      b.addValue(EnumValueDescriptorProto.newBuilder().setName(c.getName()).setNumber(c.getTag()));
    }
    for (var o : e.getOptions()) {
      if (o.getName().equals("allow_alias")) {
        b.getOptionsBuilder().setAllowAlias(Boolean.parseBoolean(String.valueOf(o.getValue())));
      }
    }
    return b.build();
  }

  private static DescriptorProto message(MessageElement m, boolean proto3) {
    var b = DescriptorProto.newBuilder().setName(m.getName());
    for (TypeElement t : m.getNestedTypes()) {
      if (t instanceof MessageElement n) {
        b.addNestedType(message(n, proto3));
      } else if (t instanceof EnumElement e) {
        b.addEnumType(enumType(e));
      }
    }
    for (var f : m.getFields()) {
      b.addField(field(f, proto3, b, -1));
    }
    for (var o : m.getOneOfs()) {
      int index = b.getOneofDeclCount();
      b.addOneofDecl(OneofDescriptorProto.newBuilder().setName(o.getName()));
      for (var f : o.getFields()) {
        b.addField(field(f, proto3, b, index));
      }
    }
    return b.build();
  }

  private static FieldDescriptorProto field(
      FieldElement f, boolean proto3, DescriptorProto.Builder owner, int oneof) {
    var b = FieldDescriptorProto.newBuilder().setName(f.getName()).setNumber(f.getTag());
    var label = f.getLabel();
    b.setLabel(
        label == Field.Label.REPEATED
            ? FieldDescriptorProto.Label.LABEL_REPEATED
            : label == Field.Label.REQUIRED
                ? FieldDescriptorProto.Label.LABEL_REQUIRED
                : FieldDescriptorProto.Label.LABEL_OPTIONAL);
    if (oneof >= 0) {
      b.setOneofIndex(oneof);
    }
    var type = f.getType().strip();
    if (type.startsWith("map<")) {
      // A map is a repeated nested entry message (key = 1, value = 2) marked map_entry.
      var kv = type.substring(4, type.length() - 1).split(",", 2);
      var entry = camel(f.getName()) + "Entry";
      var eb =
          DescriptorProto.newBuilder()
              .setName(entry)
              .setOptions(MessageOptions.newBuilder().setMapEntry(true));
      eb.addField(typed(FieldDescriptorProto.newBuilder().setName("key").setNumber(1), kv[0]));
      eb.addField(typed(FieldDescriptorProto.newBuilder().setName("value").setNumber(2), kv[1]));
      for (var e : eb.getFieldBuilderList()) {
        e.setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
      }
      owner.addNestedType(eb);
      return b.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED).setTypeName(entry).build();
    }
    typed(b, type);
    if (!proto3 && f.getDefaultValue() != null) {
      b.setDefaultValue(f.getDefaultValue());
    }
    if (f.getJsonName() != null) {
      b.setJsonName(f.getJsonName());
    }
    return b.build();
  }

  private static FieldDescriptorProto.Builder typed(FieldDescriptorProto.Builder b, String type) {
    var t = type.strip();
    var scalar =
        switch (t) {
          case "double" -> FieldDescriptorProto.Type.TYPE_DOUBLE;
          case "float" -> FieldDescriptorProto.Type.TYPE_FLOAT;
          case "int64" -> FieldDescriptorProto.Type.TYPE_INT64;
          case "uint64" -> FieldDescriptorProto.Type.TYPE_UINT64;
          case "int32" -> FieldDescriptorProto.Type.TYPE_INT32;
          case "fixed64" -> FieldDescriptorProto.Type.TYPE_FIXED64;
          case "fixed32" -> FieldDescriptorProto.Type.TYPE_FIXED32;
          case "bool" -> FieldDescriptorProto.Type.TYPE_BOOL;
          case "string" -> FieldDescriptorProto.Type.TYPE_STRING;
          case "bytes" -> FieldDescriptorProto.Type.TYPE_BYTES;
          case "uint32" -> FieldDescriptorProto.Type.TYPE_UINT32;
          case "sfixed32" -> FieldDescriptorProto.Type.TYPE_SFIXED32;
          case "sfixed64" -> FieldDescriptorProto.Type.TYPE_SFIXED64;
          case "sint32" -> FieldDescriptorProto.Type.TYPE_SINT32;
          case "sint64" -> FieldDescriptorProto.Type.TYPE_SINT64;
          default -> null;
        };
    if (scalar != null) {
      return b.setType(scalar);
    }
    // A message or an enum: protobuf-java resolves the name from the field's scope and tells
    // which it is when it links the file.
    return b.setTypeName(t);
  }

  private static String camel(String name) {
    var out = new StringBuilder();
    boolean up = true;
    for (char c : name.toCharArray()) {
      if (c == '_') {
        up = true;
      } else {
        out.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return out.toString();
  }
}
