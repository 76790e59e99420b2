package io.archway.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;

/** Connect, send and read timeouts, each a duration such as {@code 5s}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Timeout {

  @JsonPropertyDescription("Time to open the connection to the upstream, e.g. 6s.")
  @Pattern(Schema.DURATION)
  public String connect;

  @JsonPropertyDescription("Time between two writes to the upstream, e.g. 60s.")
  @Pattern(Schema.DURATION)
  public String send;

  @JsonPropertyDescription("Time between two reads from the upstream, e.g. 60s.")
  @Pattern(Schema.DURATION)
  public String read;
}
