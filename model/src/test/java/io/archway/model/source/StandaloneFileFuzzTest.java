package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.archway.model.testing.Fixtures;
import io.archway.model.testing.JsonMutator;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes the standalone file ({@code apisix.yaml}): a document of every valid fixture, mutated in
 * its structure (values of other types, edge values, removed and added fields) or in its bytes.
 * Parsing gives objects or a {@link ConfigFileException}, nothing else; and every object it accepts
 * writes out as JSON that reads back valid, as the operator and etcd need. See docs/fuzzing.md.
 */
class StandaloneFileFuzzTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectNode DOCUMENT = document();

  @Property
  void structureMutations(@ForAll("seeds") long seed) throws Exception {
    var r = new Random(seed);
    var doc = JsonMutator.mutate(DOCUMENT, r, r.nextInt(1, 6));
    Statistics.label("file")
        .collect(parse((YAML.writeValueAsString(doc) + "#END\n").getBytes(StandardCharsets.UTF_8)));
    // A fuzz test whose inputs never get past validation tests nothing.
    Statistics.label("file").coverage(c -> c.check("accepted").percentage(p -> p >= 2));
  }

  @Property
  void byteMutations(@ForAll("seeds") long seed) throws Exception {
    var r = new Random(seed);
    var bytes = YAML.writeValueAsString(DOCUMENT).getBytes(StandardCharsets.UTF_8);
    for (int i = r.nextInt(1, 8); i > 0; i--) {
      int at = r.nextInt(bytes.length);
      var chars = "\n :-[]{}'\"#&*!|>%@`\t0aZ";
      bytes[at] = (byte) chars.charAt(r.nextInt(chars.length()));
    }
    var end = "#END\n".getBytes(StandardCharsets.UTF_8);
    var all = new byte[bytes.length + end.length];
    System.arraycopy(bytes, 0, all, 0, bytes.length);
    System.arraycopy(end, 0, all, bytes.length, end.length);
    parse(all);
  }

  private static String parse(byte[] content) throws ValidationException {
    java.util.Map<io.archway.model.Keys.Key, io.archway.model.ConfigObject> objects;
    try {
      objects = StandaloneFile.parse(content, "apisix.yaml");
    } catch (ConfigFileException e) {
      assertThat(e.lines()).isNotEmpty();
      return "rejected";
    }
    for (var e : objects.entrySet()) {
      var kind = e.getKey().kind();
      var written = ModelJson.toBytes(e.getValue());
      var again = ModelJson.read(kind, written, null, "again");
      // As text: a number may come back as another node type of the same value.
      assertThat(ModelJson.toTree(again).toString())
          .isEqualTo(ModelJson.toTree(e.getValue()).toString());
    }
    return "accepted";
  }

  /** Every valid fixture, in its section. */
  private static ObjectNode document() {
    var doc = JsonNodeFactory.instance.objectNode();
    for (var f : Fixtures.valid()) {
      JsonNode json = f.json();
      var section =
          doc.has(f.kind().dir()) ? doc.withArray(f.kind().dir()) : doc.putArray(f.kind().dir());
      section.add(json);
    }
    return doc;
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
