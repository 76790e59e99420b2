package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The proto compiler: .proto source parsed by Wire and linked by protobuf-java (packages, nested
 * messages and enums, repeated fields, maps, oneofs, well-known imports, proto2 defaults), a base64
 * descriptor set, and what is refused with a message.
 */
class ProtosTest {

  static final String SOURCE =
      """
      syntax = "proto3";
      package shop.v1;
      import "google/protobuf/timestamp.proto";

      enum Size { SIZE_UNKNOWN = 0; SMALL = 1; LARGE = 2; }

      message Item {
        string name = 1;
        Size size = 2;
        repeated int32 counts = 3;
        message Price { int64 cents = 1; string currency = 2; }
        Price price = 4;
        map<string, Price> offers = 5;
        oneof pick { string code = 6; int32 number = 7; }
        google.protobuf.Timestamp added = 8;
      }

      message Order { repeated Item items = 1; Item.Price total = 2; }

      service Shop {
        rpc Put (Order) returns (Order);
        rpc Watch (Item) returns (stream Item);
      }
      """;

  @Test
  void sourceIsCompiledWithItsTypesAndServices() throws Exception {
    var c = Protos.compile("1", SOURCE);
    var put = c.method("shop.v1.Shop", "Put");
    assertThat(put).isNotNull();
    assertThat(put.getInputType().getFullName()).isEqualTo("shop.v1.Order");
    assertThat(c.method("Shop", "Watch").isServerStreaming()).isTrue();
    assertThat(c.method("shop.v1.Shop", "Nope")).isNull();
    assertThat(c.method("other.Shop", "Put")).isNull();

    var item = put.getInputType().findFieldByName("items").getMessageType();
    assertThat(item.findFieldByName("size").getType()).isEqualTo(FieldDescriptor.Type.ENUM);
    assertThat(item.findFieldByName("counts").isRepeated()).isTrue();
    assertThat(item.findFieldByName("offers").isMapField()).isTrue();
    assertThat(item.findFieldByName("code").getContainingOneof().getName()).isEqualTo("pick");
    assertThat(item.findFieldByName("added").getMessageType().getFullName())
        .isEqualTo("google.protobuf.Timestamp");
    assertThat(put.getInputType().findFieldByName("total").getMessageType().getFullName())
        .isEqualTo("shop.v1.Item.Price");

    // The descriptors work with DynamicMessage and the JSON mapping.
    var b = DynamicMessage.newBuilder(put.getInputType());
    JsonFormat.parser()
        .merge(
            "{\"items\": [{\"name\": \"tea\", \"size\": \"LARGE\", \"counts\": [1, 2],"
                + " \"offers\": {\"a\": {\"cents\": \"5\"}}, \"code\": \"x\"}],"
                + " \"total\": {\"cents\": 12}}",
            b);
    var again = DynamicMessage.parseFrom(put.getInputType(), b.build().toByteArray());
    assertThat(JsonFormat.printer().omittingInsignificantWhitespace().print(again))
        .contains("\"size\":\"LARGE\"", "\"counts\":[1,2]", "\"code\":\"x\"", "\"cents\":\"12\"");
  }

  @Test
  void proto2DefaultsAndADescriptorSet() throws Exception {
    var c =
        Protos.compile(
            "p2",
            """
            syntax = "proto2";
            message Req { optional int32 n = 1 [default = 7]; required string s = 2; }
            service S { rpc M (Req) returns (Req); }
            """);
    var req = c.method("S", "M").getInputType();
    assertThat(req.findFieldByName("n").getDefaultValue()).isEqualTo(7);
    assertThat(req.findFieldByName("s").isRequired()).isTrue();

    // APISIX's other form: protoc's descriptor set, base64.
    var set =
        FileDescriptorSet.newBuilder()
            .addFile(Protos.compile("1", SOURCE).files().get(0).toProto())
            .build();
    var fromSet =
        Protos.compile(
            "set",
            Base64.getEncoder()
                .encodeToString(
                    FileDescriptorSet.newBuilder()
                        .addFile(com.google.protobuf.TimestampProto.getDescriptor().toProto())
                        .addAllFile(set.getFileList())
                        .build()
                        .toByteArray()));
    assertThat(fromSet.method("shop.v1.Shop", "Put")).isNotNull();
  }

  @Test
  void refusedWithAMessage() {
    assertThatThrownBy(() -> Protos.compile("x", "syntax = \"proto3\"; message A { B b = 1; }"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("content: ")
        .hasMessageContaining("\"B\" is not defined");
    assertThatThrownBy(() -> Protos.compile("x", "message A { string a = 1 }"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("content: ");
    assertThatThrownBy(
            () -> Protos.compile("x", "syntax = \"proto3\"; import \"other.proto\"; message A {}"))
        .hasMessage(
            "content: import \"other.proto\" (expected: google/protobuf/*.proto well-known types)");
    assertThatThrownBy(() -> Protos.compile("x", " ")).hasMessageContaining("empty");
  }
}
