package io.archway.model;

import java.util.Map;

/**
 * A protobuf definition grpc-transcode names by {@code proto_id} (APISIX 3.x {@code
 * /apisix/protos/{id}}): {@code content} is the {@code .proto} source, or the base64 of a
 * descriptor set as protoc writes it. The dataplane compiles it when the config changes.
 */
public record Proto(
    String id,
    String name,
    String desc,
    String content,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static Proto read(Fields f, String path) {
    var proto =
        new Proto(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.string("content", Fields.Check.length(1, Integer.MAX_VALUE)),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("content", "the .proto source, or a base64 descriptor set, as a string");
    return proto;
  }
}
