package io.archway.dataplane.testing;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * The JVM's name resolver in the dataplane's tests (a service of {@code
 * java.net.spi.InetAddressResolverProvider}): the built-in one, recording every name looked up, so
 * a test can show that something never goes to DNS (an event loop must not block on a lookup, and a
 * client's input must not choose what is looked up).
 */
public final class RecordingResolverProvider extends InetAddressResolverProvider {

  private static final List<String> LOOKUPS = new CopyOnWriteArrayList<>();

  /** Names looked up since the JVM started, oldest first. */
  public static List<String> lookups() {
    return List.copyOf(LOOKUPS);
  }

  @Override
  public InetAddressResolver get(Configuration configuration) {
    var builtin = configuration.builtinResolver();
    return new InetAddressResolver() {
      @Override
      public Stream<InetAddress> lookupByName(String host, LookupPolicy policy)
          throws UnknownHostException {
        LOOKUPS.add(host);
        return builtin.lookupByName(host, policy);
      }

      @Override
      public String lookupByAddress(byte[] addr) throws UnknownHostException {
        return builtin.lookupByAddress(addr);
      }
    };
  }

  @Override
  public String name() {
    return "archway-test-recording";
  }
}
