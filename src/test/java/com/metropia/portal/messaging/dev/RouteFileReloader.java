package com.metropia.portal.messaging.dev;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.metropia.portal.messaging.events.EventTypeSchemas;
import com.metropia.portal.messaging.lint.RouteLint;
import org.apache.camel.CamelContext;
import org.apache.camel.EndpointAware;
import org.apache.camel.Navigate;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.RouteConfigurationsBuilder;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.StartupListener;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.ShutdownStrategy;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.slf4j.LoggerFactory;

/**
 * Reloads a route file of the embedded run when it is saved, templates and templated routes included (Camel 4.17's
 * own reload leaves templated routes as they were). The saved files are linted first: a broken edit is logged as
 * {@code file:line:column: message} and the routes already running keep serving. A good one is swapped in under
 * traffic without failing a request: see {@link HttpRequestHold} and {@link #remove}.
 * Saving an event type schema (in the {@code file:} folders the service reads them from) reloads the schemas, with
 * the checks of the start-up: {@link #reloadEventTypes}.
 */
public class RouteFileReloader extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(RouteFileReloader.class);

    private final CamelContext context;
    private final Path directory;
    /** Per file, the text of the version running now. */
    private final Map<Path, String> lastGood = new ConcurrentHashMap<>();
    private final HttpRequestHold requests;
    private WatchService watcher;
    /** The folders of the event type schemas the service reads, when they are files: saving one reloads them. */
    private final Set<Path> typeFolders = new HashSet<>();
    private EventTypeSchemas eventTypes;
    private Thread thread;

    public RouteFileReloader(CamelContext context, Path directory) {
        this.context = context;
        this.directory = directory.toAbsolutePath();
        this.requests = new HttpRequestHold(context);
    }

    @Override
    protected void doStart() throws Exception {
        for (Path file : RouteLint.routeFiles(directory)) {
            lastGood.put(file.toAbsolutePath(), Files.readString(file));
        }
        // As early as the server's router is there, before any request: a request let through before the hold was
        // installed is not waited for by the first reload, which would then stop the routes under it. A startup
        // listener's onCamelContextStarted is not called for a context already starting, as this one is when the
        // configuration adds the reloader: onCamelContextFullyStarted is.
        requests.install();
        context.addStartupListener(new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext started, boolean alreadyStarted) {
                requests.install();
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext started, boolean alreadyStarted) {
                requests.install();
            }
        });
        watcher = FileSystems.getDefault().newWatchService();
        directory.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        eventTypes = context.getRegistry().lookupByNameAndType("portalEventTypes", EventTypeSchemas.class);
        if (eventTypes != null) {
            for (String folder : eventTypes.folders()) {
                Path types = folder.startsWith("file:") ? Path.of(folder.substring("file:".length())).toAbsolutePath()
                        : null;
                if (types != null && Files.isDirectory(types) && typeFolders.add(types)) {
                    types.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                            StandardWatchEventKinds.ENTRY_DELETE);
                    LOG.info("Saving a file in {} reloads the event type schemas", types);
                }
            }
        }
        thread = new Thread(this::watch, "route-file-reloader");
        thread.setDaemon(true);
        thread.start();
        LOG.info("Saving a file in {} reloads its routes", directory);
    }

    @Override
    protected void doStop() throws IOException {
        watcher.close();
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                Set<Path> changed = new LinkedHashSet<>();
                boolean typesChanged = false;
                do {
                    Path folder = (Path) key.watchable();
                    for (WatchEvent<?> event : key.pollEvents()) {
                        if (!(event.context() instanceof Path name)) {
                            continue;
                        }
                        if (typeFolders.contains(folder)) {
                            typesChanged |= name.toString().endsWith(".json");
                        } else if (name.toString().endsWith(".camel.yaml")) {
                            changed.add(directory.resolve(name));
                        }
                    }
                    key.reset();
                    // an editor's save can come as several events: take them all before reloading once
                    key = watcher.poll(300, TimeUnit.MILLISECONDS);
                } while (key != null);
                if (typesChanged) {
                    reloadEventTypes();
                }
                for (Path file : changed) {
                    reload(file);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ClosedWatchServiceException e) {
            // stopped
        }
    }

    /**
     * The event type schemas, read again with the checks of the start-up: a good set replaces the one in use at once
     * (no route changes); a broken file is logged as {@code file:line:column: message} and the schemas in use stay.
     */
    synchronized void reloadEventTypes() {
        List<String> problems = eventTypes.reload(context);
        if (problems.isEmpty()) {
            LOG.info("Reloaded the event type schemas: {}", eventTypes.types());
            return;
        }
        problems.forEach(problem -> LOG.warn("{}", problem));
        LOG.warn("Event type schemas not reloaded: the schemas in use keep checking events");
    }

    synchronized void reload(Path file) {
        try {
            String text = Files.exists(file) ? Files.readString(file) : "";
            if (text.isBlank() || text.equals(lastGood.get(file))) {
                return;
            }
            long saved = System.nanoTime();
            List<RouteLint.Problem> problems = RouteLint.lint(RouteLint.routeFiles(directory));
            long linted = System.nanoTime();
            if (!problems.isEmpty()) {
                problems.forEach(problem -> LOG.warn("{}", problem));
                LOG.warn("{} not reloaded: the routes already running keep serving", file.getFileName());
                return;
            }
            String previous = lastGood.get(file);
            Set<String> ids = new LinkedHashSet<>(idsDefinedIn(text));
            if (previous != null) {
                ids.addAll(idsDefinedIn(previous));
            }
            // parsed before anything stops, so the routes are down only for as long as the swap itself takes
            List<RoutesBuilder> builders = parse(file, text);
            long started = System.nanoTime();
            long deadline = started + shutdownTimeoutNanos();
            try {
                if (!requests.hold(deadline)) {
                    LOG.warn("Requests still unanswered after the shutdown timeout: reloading {} under them",
                            file.getFileName());
                }
                remove(ids, deadline);
                try {
                    add(builders);
                    restartCallers(ids, deadline);
                    lastGood.put(file, text);
                    LOG.info("Reloaded {} (lint {} ms, then requests held {} ms)", file.getFileName(),
                            (linted - saved) / 1_000_000, (System.nanoTime() - started) / 1_000_000);
                } catch (Exception e) {
                    LOG.error("Reloading {} failed: {}", file.getFileName(), e.getMessage(), e);
                    if (previous != null) {
                        remove(ids, deadline);
                        add(parse(file, previous));
                        restartCallers(ids, deadline);
                        LOG.warn("{}: the previous version is running again", file.getFileName());
                    }
                }
            } finally {
                requests.release();
            }
        } catch (Exception e) {
            LOG.error("Reloading {} failed: {}", file.getFileName(), e.getMessage(), e);
        }
    }

    private long shutdownTimeoutNanos() {
        ShutdownStrategy shutdown = context.getShutdownStrategy();
        return shutdown.getTimeUnit().toNanos(shutdown.getTimeout());
    }

    private List<RoutesBuilder> parse(Path file, String text) throws Exception {
        Resource resource = ResourceHelper.fromString("file:" + file, text);
        return new ArrayList<>(PluginHelper.getRoutesLoader(context).findRoutesBuilders(resource));
    }

    private void add(List<RoutesBuilder> builders) throws Exception {
        for (RoutesBuilder builder : builders) {
            if (builder instanceof RouteConfigurationsBuilder configurations) {
                context.addRoutesConfigurations(configurations);
            }
        }
        for (RoutesBuilder builder : builders) {
            context.addRoutes(builder);
        }
        // Camel's own reload misses this step, which is why templated routes did not come back
        for (RoutesBuilder builder : builders) {
            builder.addTemplatedRoutesToCamelContext(context);
        }
    }

    /**
     * The routes ordered so that a route comes before every route it sends to (by {@code to}, or any step that names
     * its endpoint); a cycle, or a route reached only through a dynamic endpoint, keeps the order given.
     */
    static List<Route> callersFirst(List<Route> routes) {
        Map<Route, Set<String>> targets = new LinkedHashMap<>();
        routes.forEach(route -> targets.put(route, endpointsSentTo(route.navigate(), new HashSet<>())));
        List<Route> ordered = new ArrayList<>();
        List<Route> left = new ArrayList<>(routes);
        while (!left.isEmpty()) {
            // the first route that no route still left sends to
            Route next = left.stream()
                    .filter(route -> left.stream().noneMatch(caller -> caller != route
                            && targets.get(caller).contains(route.getEndpoint().getEndpointKey())))
                    .findFirst().orElse(left.get(0));
            ordered.add(next);
            left.remove(next);
        }
        return ordered;
    }

    @SuppressWarnings("unchecked")
    private static Set<String> endpointsSentTo(Navigate<Processor> node, Set<String> found) {
        if (node != null && node.hasNext()) {
            for (Processor processor : node.next()) {
                if (processor instanceof EndpointAware aware && aware.getEndpoint() != null) {
                    found.add(aware.getEndpoint().getEndpointKey());
                }
                if (processor instanceof Navigate<?> children) {
                    endpointsSentTo((Navigate<Processor>) children, found);
                }
            }
        }
        return found;
    }

    /** The route stops taking exchanges and finishes those in flight, until the deadline at most. */
    private void drain(Route route, long deadline) throws Exception {
        ServiceHelper.stopService(route.getConsumer());
        while (context.getInflightRepository().size(route.getRouteId()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        int left = context.getInflightRepository().size(route.getRouteId());
        if (left > 0) {
            LOG.warn("Route {} still has {} exchange(s) in flight after the shutdown timeout: stopping it anyway",
                    route.getRouteId(), left);
        }
    }

    /**
     * Restarts the routes of other files that send to a route just swapped in (such as {@code http-events}, which sends
     * to {@code direct:events}), so that they send with new producers. Camel 4.17's direct producer notices a new
     * consumer in two steps, the component's change counter first and the consumer next: a request that comes through
     * the same producer between the two, as the requests let through together after a swap do, is handed the consumer
     * of the removed route and runs on its stopped processors ("SendProcessor has not been started"). A new producer
     * has no consumer cached, so each request looks it up. Each caller stops taking exchanges and finishes those in
     * flight first ({@link #drain}); HTTP requests are still held.
     */
    private void restartCallers(Set<String> ids, long deadline) throws Exception {
        Set<String> swapped = new HashSet<>();
        for (String id : ids) {
            Route route = context.getRoute(id);
            if (route != null) {
                swapped.add(route.getEndpoint().getEndpointKey());
            }
        }
        List<Route> callers = callersFirst(context.getRoutes().stream()
                .filter(route -> !ids.contains(route.getRouteId()))
                .filter(route -> endpointsSentTo(route.navigate(), new HashSet<>()).stream()
                        .anyMatch(swapped::contains))
                .toList());
        for (Route caller : callers) {
            drain(caller, deadline);
        }
        for (Route caller : callers) {
            context.getRouteController().stopRoute(caller.getRouteId(), 1, TimeUnit.SECONDS);
            context.getRouteController().startRoute(caller.getRouteId());
        }
    }

    /** The ids of the routes, templated routes, templates and route configurations a YAML file defines. */
    @SuppressWarnings("unchecked")
    static Set<String> idsDefinedIn(String yaml) {
        Set<String> ids = new LinkedHashSet<>();
        for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
            if (!(document instanceof List<?> items)) {
                continue;
            }
            for (Object item : items) {
                if (item instanceof Map<?, ?> entry) {
                    entry.forEach((kind, definition) -> {
                        if (definition instanceof Map<?, ?> fields) {
                            Object id = "templatedRoute".equals(kind) ? fields.get("routeId") : fields.get("id");
                            if (id != null) {
                                ids.add(id.toString());
                            }
                        }
                    });
                }
            }
        }
        return ids;
    }

    /**
     * Stops and removes the routes without failing or stalling an exchange in flight. Camel's own route stop keeps a
     * {@code direct:} consumer taking exchanges until its route has none in flight (which under steady traffic never
     * happens before the shutdown timeout), and stopping a route whose callee was stopped first leaves the caller's
     * exchanges waiting for a consumer until the same timeout, then failing. So the routes are stopped callers first
     * (HTTP requests are already held before any route): each stops taking new exchanges, finishes those in flight,
     * and only then goes; an exchange that does not come from HTTP, such as a timer's, finishes before its route goes.
     */
    private void remove(Set<String> ids, long deadline) throws Exception {
        List<Route> routes = callersFirst(ids.stream().map(context::getRoute).filter(Objects::nonNull).toList());
        for (Route route : routes) {
            drain(route, deadline);
        }
        for (Route route : routes) {
            // nothing is in flight any more, so Camel's graceful stop has nothing to wait for
            context.getRouteController().stopRoute(route.getRouteId(), 1, TimeUnit.SECONDS);
            context.removeRoute(route.getRouteId());
        }
        ModelCamelContext model = (ModelCamelContext) context;
        for (RouteTemplateDefinition template : List.copyOf(model.getRouteTemplateDefinitions())) {
            if (ids.contains(template.getId())) {
                model.removeRouteTemplateDefinition(template);
            }
        }
        for (RouteConfigurationDefinition configuration : List.copyOf(model.getRouteConfigurationDefinitions())) {
            if (ids.contains(configuration.getId())) {
                model.removeRouteConfiguration(configuration);
            }
        }
    }
}
