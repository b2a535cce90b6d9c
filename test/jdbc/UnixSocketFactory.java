// A javax.net.SocketFactory for the PostgreSQL JDBC driver that connects to the
// server's unix-domain socket (Java 16+ SocketChannel with UnixDomainSocketAddress),
// so the throwaway cluster needs no TCP listener.  Use it with the connection
// properties socketFactory=UnixSocketFactory and socketFactoryArg=<path of
// the socket file, e.g. /path/run/.s.PGSQL.54329>; the host and port in the
// JDBC URL are then ignored.
//
// Only what pgjdbc calls on its socket is implemented: connect, the two streams,
// close, and the TCP options, which are accepted and remembered but mean nothing
// on a unix socket.  Read timeouts are not supported (reads block), so do not use
// socketTimeout or getNotifications(timeout) with it.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.SocketFactory;

public class UnixSocketFactory extends SocketFactory {
    private final String path;

    public UnixSocketFactory(String path) {
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("socketFactoryArg must be the path of the server's unix socket");
        }
        this.path = path;
    }

    @Override
    public Socket createSocket() {
        return new UnixSocket(path);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = createSocket();
        s.connect(null, 0);
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket((String) null, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return createSocket((String) null, port);
    }

    static final class UnixSocket extends Socket {
        private final String path;
        private SocketChannel channel;
        private InputStream in;
        private OutputStream out;
        private boolean closed;
        private int soTimeout;
        private boolean tcpNoDelay;
        private boolean keepAlive;
        private int sendBufferSize = 65536;
        private int receiveBufferSize = 65536;

        UnixSocket(String path) {
            this.path = path;
        }

        // the address pgjdbc passes (host:port of the URL) is ignored
        @Override
        public synchronized void connect(SocketAddress ignored, int timeout) throws IOException {
            if (closed) throw new IOException("socket is closed");
            if (channel != null) throw new IOException("already connected");
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(path));
            } catch (IOException e) {
                ch.close();
                throw new IOException("could not connect to unix socket " + path + ": " + e.getMessage(), e);
            }
            channel = ch;
            // plain blocking reads and writes on the channel, without the channel
            // streams' shared lock (pgjdbc never reads and writes concurrently anyway)
            in = new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] b = new byte[1];
                    int n;
                    while ((n = read(b, 0, 1)) == 0) { /* blocking: not reached */ }
                    return n < 0 ? -1 : (b[0] & 0xff);
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) return 0;
                    return channel.read(ByteBuffer.wrap(b, off, len));
                }

                @Override
                public void close() throws IOException {
                    UnixSocket.this.close();
                }
            };
            out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (buf.hasRemaining()) channel.write(buf);
                }

                @Override
                public void close() throws IOException {
                    UnixSocket.this.close();
                }
            };
        }

        @Override
        public void connect(SocketAddress endpoint) throws IOException {
            connect(endpoint, 0);
        }

        @Override
        public void bind(SocketAddress bindpoint) {
            // nothing to bind on the client side of a unix socket
        }

        @Override
        public InputStream getInputStream() throws IOException {
            if (in == null) throw new IOException("not connected");
            return in;
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            if (out == null) throw new IOException("not connected");
            return out;
        }

        @Override
        public synchronized void close() throws IOException {
            closed = true;
            if (channel != null) channel.close();
        }

        @Override public boolean isConnected() { return channel != null && channel.isConnected(); }
        @Override public boolean isBound() { return channel != null; }
        @Override public boolean isClosed() { return closed; }
        @Override public boolean isInputShutdown() { return closed; }
        @Override public boolean isOutputShutdown() { return closed; }
        @Override public void shutdownInput() throws IOException { if (channel != null) channel.shutdownInput(); }
        @Override public void shutdownOutput() throws IOException { if (channel != null) channel.shutdownOutput(); }
        @Override public void setSoTimeout(int timeout) { soTimeout = timeout; }
        @Override public int getSoTimeout() { return soTimeout; }
        @Override public void setTcpNoDelay(boolean on) { tcpNoDelay = on; }
        @Override public boolean getTcpNoDelay() { return tcpNoDelay; }
        @Override public void setKeepAlive(boolean on) { keepAlive = on; }
        @Override public boolean getKeepAlive() { return keepAlive; }
        @Override public void setSendBufferSize(int size) { sendBufferSize = size; }
        @Override public int getSendBufferSize() { return sendBufferSize; }
        @Override public void setReceiveBufferSize(int size) { receiveBufferSize = size; }
        @Override public int getReceiveBufferSize() { return receiveBufferSize; }
        @Override public void setSoLinger(boolean on, int linger) { }
        @Override public int getSoLinger() { return -1; }
        @Override public String toString() { return "UnixSocket[" + path + "]"; }
    }
}
