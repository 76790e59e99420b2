package io.archway.dataplane.pubsub;

import static com.google.protobuf.CodedOutputStream.computeInt64SizeNoTag;
import static com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag;

import com.google.protobuf.CodedOutputStream;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Answers as bytes on the wire, in pooled direct buffers. Most answers go through protobuf's
 * generated code; a fetch's answer, nearly all of the bytes a session sends, is written here field
 * by field straight from the consumer's records, so the keys and values are copied once, from the
 * consumer's fetch buffer into the socket's, with no message objects in between. The bytes are
 * exactly what {@code PubSubResp.writeTo} writes for the same answer (proto3: fields holding their
 * default value are left out; the oneof's message is always written).
 */
final class Encoding {

  // Field tags: (number << 3) | wire type (0 varint, 2 length-delimited).
  private static final int SEQUENCE = 1 << 3;
  private static final int KAFKA_FETCH_RESP = 33 << 3 | 2;
  private static final int MESSAGES = 1 << 3 | 2;
  private static final int OFFSET = 1 << 3;
  private static final int TIMESTAMP = 2 << 3;
  private static final int KEY = 3 << 3 | 2;
  private static final int VALUE = 4 << 3 | 2;
  // Room for the sequence in front of a fetch answer's body: its tag and the longest varint.
  private static final int SEQUENCE_ROOM = 1 + 10;

  private Encoding() {}

  static ByteBuf encode(ByteBufAllocator alloc, PubSubResp resp) {
    int size = resp.getSerializedSize();
    var buf = alloc.directBuffer(size);
    try {
      var out = CodedOutputStream.newInstance(buf.nioBuffer(0, size));
      resp.writeTo(out);
      out.checkNoSpaceLeft();
      buf.writerIndex(size);
      return buf;
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw new IllegalStateException("encoding a PubSubResp: " + e.getMessage(), e);
    }
  }

  /** {@code PubSubResp{sequence, kafka_fetch_resp{messages}}}. */
  static ByteBuf encodeFetch(
      ByteBufAllocator alloc, long sequence, List<ConsumerRecord<ByteBuffer, ByteBuffer>> records) {
    return withSequence(encodeFetchBody(alloc, records), sequence);
  }

  /**
   * A fetch answer without its sequence, which is not known yet when a consumer thread makes an
   * answer ahead of the fetch that will take it: {@code kafka_fetch_resp{messages}} behind room for
   * the sequence, which {@link #withSequence} writes in front of it (the sequence is the first
   * field, so the bytes end up exactly those of {@link #encodeFetch}).
   */
  static ByteBuf encodeFetchBody(
      ByteBufAllocator alloc, List<ConsumerRecord<ByteBuffer, ByteBuffer>> records) {
    int n = records.size();
    var sizes = new int[n];
    long body = 0;
    for (int i = 0; i < n; i++) {
      var r = records.get(i);
      int m =
          int64Field(r.offset())
              + int64Field(r.timestamp())
              + bytesField(r.key())
              + bytesField(r.value());
      sizes[i] = m;
      body += 1 + computeUInt32SizeNoTag(m) + m;
    }
    if (body > Integer.MAX_VALUE / 2) {
      throw new IllegalStateException("a fetch answer of " + body + " bytes");
    }
    int fetch = (int) body;
    int total = computeUInt32SizeNoTag(KAFKA_FETCH_RESP) + computeUInt32SizeNoTag(fetch) + fetch;
    var buf = alloc.directBuffer(SEQUENCE_ROOM + total);
    try {
      // protobuf's own writer over the buffer's memory: its varints and copies are the fast ones.
      var out = CodedOutputStream.newInstance(buf.nioBuffer(SEQUENCE_ROOM, total));
      out.writeUInt32NoTag(KAFKA_FETCH_RESP);
      out.writeUInt32NoTag(fetch);
      for (int i = 0; i < n; i++) {
        var r = records.get(i);
        out.writeUInt32NoTag(MESSAGES);
        out.writeUInt32NoTag(sizes[i]);
        if (r.offset() != 0) {
          out.writeUInt32NoTag(OFFSET);
          out.writeInt64NoTag(r.offset());
        }
        if (r.timestamp() != 0) {
          out.writeUInt32NoTag(TIMESTAMP);
          out.writeInt64NoTag(r.timestamp());
        }
        bytes(out, KEY, r.key());
        bytes(out, VALUE, r.value());
      }
      out.checkNoSpaceLeft();
      buf.setIndex(SEQUENCE_ROOM, SEQUENCE_ROOM + total);
      return buf;
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw new IllegalStateException("encoding a fetch answer: " + e.getMessage(), e);
    }
  }

  /** Writes {@code sequence} in front of a body from {@link #encodeFetchBody}; the same buffer. */
  static ByteBuf withSequence(ByteBuf body, long sequence) {
    int size = int64Field(sequence);
    if (size > 0) {
      int at = body.readerIndex() - size;
      try {
        var out = CodedOutputStream.newInstance(body.nioBuffer(at, size));
        out.writeUInt32NoTag(SEQUENCE);
        out.writeInt64NoTag(sequence);
        out.checkNoSpaceLeft();
      } catch (IOException e) {
        body.release();
        throw new IllegalStateException("encoding a sequence: " + e.getMessage(), e);
      }
      body.readerIndex(at);
    }
    return body;
  }

  private static int int64Field(long v) {
    return v == 0 ? 0 : 1 + computeInt64SizeNoTag(v);
  }

  private static int bytesField(ByteBuffer b) {
    int n = b == null ? 0 : b.remaining();
    return n == 0 ? 0 : 1 + computeUInt32SizeNoTag(n) + n;
  }

  private static void bytes(CodedOutputStream out, int tag, ByteBuffer b) throws IOException {
    if (b != null && b.hasRemaining()) {
      out.writeUInt32NoTag(tag);
      out.writeUInt32NoTag(b.remaining());
      if (b.hasArray()) {
        out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
      } else {
        out.write(b.duplicate()); // the record's own position stays where it is
      }
    }
  }
}
