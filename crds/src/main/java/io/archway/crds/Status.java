package io.archway.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * The status every Archway-reconciled resource carries: {@code Accepted} (the resource is valid and
 * its references resolve) and {@code Programmed} (its config is in etcd), each with the generation
 * it describes, a reason and a message naming the field at fault.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Status {

  @JsonPropertyDescription("The metadata.generation the conditions describe.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Accepted: the resource is valid and everything it references exists. Programmed: its"
          + " configuration is written to etcd and served by the dataplane.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The etcd keys written for this resource.")
  public List<String> keys;
}
