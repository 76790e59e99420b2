package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonMergeTest {

  private static final ObjectMapper M = new ObjectMapper();

  private static ObjectNode o(String json) throws Exception {
    return (ObjectNode) M.readTree(json);
  }

  @Test
  void mergePatchMergesObjectsRemovesNullsReplacesTheRest() throws Exception {
    var target = o("{\"a\":1,\"b\":{\"c\":1,\"d\":2},\"e\":[1,2],\"f\":\"x\"}");
    JsonMerge.merge(target, o("{\"b\":{\"c\":null,\"z\":3},\"e\":[3],\"f\":null,\"g\":true}"));
    assertThat(target).isEqualTo(o("{\"a\":1,\"b\":{\"d\":2,\"z\":3},\"e\":[3],\"g\":true}"));
  }

  @Test
  void aSubPathReplacesThatPartMakingObjectsOnTheWay() throws Exception {
    var target = o("{\"upstream\":{\"nodes\":{\"a:1\":1},\"type\":\"roundrobin\"}}");
    JsonMerge.replace(target, List.of("upstream", "nodes"), o("{\"b:2\":1}"));
    assertThat(target)
        .isEqualTo(o("{\"upstream\":{\"nodes\":{\"b:2\":1},\"type\":\"roundrobin\"}}"));
    JsonMerge.replace(target, List.of("plugins", "cors"), o("{}"));
    assertThat(target.at("/plugins/cors").isObject()).isTrue();
    var withArray = o("{\"uris\":[\"/a\",\"/b\"]}");
    JsonMerge.replace(withArray, List.of("uris", "1"), M.readTree("\"/c\""));
    assertThat(withArray).isEqualTo(o("{\"uris\":[\"/a\",\"/c\"]}"));
  }

  @Test
  void aPathThroughAValueIsRefused() throws Exception {
    var target = o("{\"uri\":\"/a\"}");
    assertThatThrownBy(() -> JsonMerge.replace(target, List.of("uri", "x"), o("{}")))
        .hasMessageContaining("cannot set uri/x");
  }
}
