package io.archway.dataplane.config.xds;

import java.util.TreeSet;

/**
 * What an xDS source keeps per resource type: the last accepted version, the last nonce, the names
 * asked for, whether a response came, and the last rejection (logged once). Used on the source's
 * thread only.
 */
final class TypeState {
  String version = "";
  String nonce = "";
  TreeSet<String> names = new TreeSet<>();
  boolean received;
  String rejected;
}
