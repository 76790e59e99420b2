package io.archway.dataplane.discovery;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal authoritative DNS server on a random UDP loopback port: answers A, AAAA and SRV
 * questions from records the test sets, NXDOMAIN for names it has none for.
 */
public final class TestDnsServer implements AutoCloseable {

  public record Rec(DnsRecordType type, byte[] content, long ttl) {}

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final Map<String, List<Rec>> records = new ConcurrentHashMap<>();
  final AtomicInteger queries = new AtomicInteger();

  public TestDnsServer() throws InterruptedException {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .handler(
                new ChannelInitializer<NioDatagramChannel>() {
                  @Override
                  protected void initChannel(NioDatagramChannel ch) {
                    ch.pipeline()
                        .addLast(new DatagramDnsQueryDecoder())
                        .addLast(new DatagramDnsResponseEncoder())
                        .addLast(new Responder());
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** Replaces the records of {@code name} (no trailing dot). */
  public void set(String name, Rec... recs) {
    records.put(name.toLowerCase() + ".", List.of(recs));
  }

  public void remove(String name) {
    records.remove(name.toLowerCase() + ".");
  }

  public static Rec a(String ip, long ttl) throws Exception {
    return new Rec(DnsRecordType.A, InetAddress.getByName(ip).getAddress(), ttl);
  }

  public static Rec aaaa(String ip, long ttl) throws Exception {
    return new Rec(DnsRecordType.AAAA, InetAddress.getByName(ip).getAddress(), ttl);
  }

  public static Rec srv(int priority, int weight, int port, String target, long ttl) {
    var b = Unpooled.buffer();
    b.writeShort(priority).writeShort(weight).writeShort(port);
    for (var label : target.split("\\.")) {
      var bytes = label.getBytes(StandardCharsets.US_ASCII);
      b.writeByte(bytes.length).writeBytes(bytes);
    }
    b.writeByte(0);
    var out = new byte[b.readableBytes()];
    b.readBytes(out);
    b.release();
    return new Rec(DnsRecordType.SRV, out, ttl);
  }

  private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      queries.incrementAndGet();
      var question = query.recordAt(DnsSection.QUESTION);
      var response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.setAuthoritativeAnswer(true).setRecursionAvailable(true);
      response.addRecord(DnsSection.QUESTION, question);
      var recs = records.get(question.name().toLowerCase());
      if (recs == null) {
        response.setCode(DnsResponseCode.NXDOMAIN);
      } else {
        for (var r : recs) {
          if (r.type().equals(question.type())) {
            ByteBuf content = Unpooled.wrappedBuffer(r.content());
            response.addRecord(
                DnsSection.ANSWER,
                new DefaultDnsRawRecord(question.name(), r.type(), r.ttl(), content));
          }
        }
      }
      ctx.writeAndFlush(response);
    }
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
