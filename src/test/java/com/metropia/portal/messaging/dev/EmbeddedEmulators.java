package com.metropia.portal.messaging.dev;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.Map;

import com.metropia.portal.messaging.InvalidConfigurationException;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * In-process SQS (ElasticMQ) and MongoDB (mongo-java-server) for the embedded run and the tests.
 * <p>
 * mongo-java-server 1.47 needs Netty 4.2, while Vert.x and the AWS SDK need Netty 4.1: it runs in a class loader of its
 * own, made from the jars the build copies to {@code target/mongo-emulator}, that sees only the JDK and SLF4J.
 */
public final class EmbeddedEmulators implements AutoCloseable {

    /** The region and credentials the SQS emulator is addressed with; it checks neither. */
    public static final String REGION = "us-east-1";
    public static final String ACCESS_KEY = "local";
    public static final String SECRET_KEY = "local";

    private static final String MONGO_JARS_PROPERTY = "portal.dev.mongodb.emulator-classpath";

    private final String host;
    private final SQSRestServer sqsServer;
    private final int sqsPort;
    private final URLClassLoader mongoLoader;
    private final Object mongoServer;
    private final int mongoPort;

    private EmbeddedEmulators(String host, SQSRestServer sqsServer, int sqsPort, URLClassLoader mongoLoader,
                              Object mongoServer, int mongoPort) {
        this.host = host;
        this.sqsServer = sqsServer;
        this.sqsPort = sqsPort;
        this.mongoLoader = mongoLoader;
        this.mongoServer = mongoServer;
        this.mongoPort = mongoPort;
    }

    /** Starts both emulators on the host; a port of 0 takes a free one. */
    public static EmbeddedEmulators start(String host, int sqsPort, int mongoPort) {
        // ElasticMQ only logs a failed bind and carries on, so a port in use is caught here first.
        int sqsBound = sqsPort == 0 ? freePort(host) : requireFree(host, sqsPort, "SQS");
        if (mongoPort != 0) {
            requireFree(host, mongoPort, "MongoDB");
        }
        SQSRestServer sqs = SQSRestServerBuilder.withInterface(host)
                .withPort(sqsBound)
                .withServerAddress(new NodeAddress("http", host, sqsBound, ""))
                .withAWSRegion(REGION)
                .start();
        try {
            sqs.waitUntilStarted();
        } catch (RuntimeException e) {
            sqs.stopAndWait();
            throw new IllegalStateException("The SQS emulator cannot listen on " + host + ":" + sqsBound, e);
        }
        URLClassLoader loader = mongoClassLoader();
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(loader);
        try {
            Object backend = loader.loadClass("de.bwaldvogel.mongo.backend.memory.MemoryBackend")
                    .getConstructor().newInstance();
            // mongo-java-server reports wire version 8 at most, which current drivers of other languages (Node.js 7,
            // hence the inspection tools built on it) refuse. It answers as MongoDB 5.0 (wire version 13) here.
            Class<?> versionClass = loader.loadClass("de.bwaldvogel.mongo.MongoVersion");
            Object mongo50 = java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {versionClass},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "getVersionArray" -> java.util.List.of(5, 0, 0);
                        case "getWireVersion" -> 13;
                        case "toVersionString" -> "5.0.0";
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> "MongoVersion 5.0.0";
                    });
            backend.getClass().getMethod("version", versionClass).invoke(backend, mongo50);
            Class<?> serverClass = loader.loadClass("de.bwaldvogel.mongo.MongoServer");
            Object server = serverClass.getConstructor(loader.loadClass("de.bwaldvogel.mongo.MongoBackend"))
                    .newInstance(backend);
            serverClass.getMethod("bind", String.class, int.class).invoke(server, host, mongoPort);
            InetSocketAddress address = (InetSocketAddress) serverClass.getMethod("getLocalAddress").invoke(server);
            return new EmbeddedEmulators(host, sqs, sqsBound, loader, server, address.getPort());
        } catch (ReflectiveOperationException | RuntimeException e) {
            sqs.stopAndWait();
            closeQuietly(loader);
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalStateException("The MongoDB emulator cannot listen on " + host + ":" + mongoPort + ": "
                                            + cause, cause);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    public String sqsEndpoint() {
        return "http://" + host + ":" + sqsPort;
    }

    public String mongoUri() {
        return "mongodb://" + host + ":" + mongoPort;
    }

    public int sqsPort() {
        return sqsPort;
    }

    public int mongoPort() {
        return mongoPort;
    }

    /** An SQS client for the emulator, as any AWS SDK user would build one. */
    public SqsClient newSqsClient() {
        return sqsClientBuilder(sqsEndpoint()).build();
    }

    /** The builder of such a client for an emulator at this endpoint, for a test that adds to its configuration. */
    public static SqsClientBuilder sqsClientBuilder(String endpoint) {
        return SqsClient.builder()
                .httpClientBuilder(ApacheHttpClient.builder())
                .endpointOverride(URI.create(endpoint))
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    /** Creates the queue if it does not exist yet and returns its URL; a name ending in .fifo makes a FIFO queue. */
    public String createQueue(String name) {
        try (SqsClient client = newSqsClient()) {
            if (name.endsWith(".fifo")) {
                return client.createQueue(b -> b.queueName(name).attributes(Map.of(QueueAttributeName.FIFO_QUEUE, "true",
                        QueueAttributeName.CONTENT_BASED_DEDUPLICATION, "false"))).queueUrl();
            }
            return client.createQueue(b -> b.queueName(name)).queueUrl();
        }
    }

    @Override
    public void close() {
        try {
            mongoServer.getClass().getMethod("shutdownNow").invoke(mongoServer);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        } finally {
            sqsServer.stopAndWait();
            closeQuietly(mongoLoader);
        }
    }

    private static URLClassLoader mongoClassLoader() {
        File dir = new File(System.getProperty(MONGO_JARS_PROPERTY, "target/mongo-emulator"));
        File[] jars = dir.listFiles((d, name) -> name.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("No MongoDB emulator jars in " + dir.getAbsolutePath()
                                            + ": run the build first (mvn test-compile copies them there)");
        }
        URL[] urls = Arrays.stream(jars).map(EmbeddedEmulators::toUrl).toArray(URL[]::new);
        return new URLClassLoader("mongo-emulator", urls, new Slf4jOnly(ClassLoader.getPlatformClassLoader()));
    }

    private static URL toUrl(File file) {
        try {
            return file.toURI().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A port free on the host now (for a server started right after). */
    public static int freePort(String host) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int requireFree(String host, int port, String emulator) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, port));
            return port;
        } catch (IOException e) {
            String setting = "portal.dev." + (emulator.equals("SQS") ? "sqs-port" : "mongodb-port");
            throw new InvalidConfigurationException("The " + emulator + " emulator cannot listen on " + host + ":"
                                                    + port + " (" + e.getMessage() + "): stop what uses the port, or"
                                                    + " choose another with " + setting + " ("
                                                    + setting.toUpperCase().replace('.', '_').replace('-', '_') + ")");
        }
    }

    private static void closeQuietly(URLClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    /** The JDK, plus SLF4J from the application so the emulator logs where the service logs. */
    private static final class Slf4jOnly extends ClassLoader {

        private final ClassLoader application = EmbeddedEmulators.class.getClassLoader();

        Slf4jOnly(ClassLoader platform) {
            super("mongo-emulator-parent", platform);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("org.slf4j.")) {
                return application.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }
}
