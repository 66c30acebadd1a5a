package deploy_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// fleetManifests are the objects of kubernetes/fleet/ (docs/fleet.md): gatehouse's
// ConfigMap, Deployment and budget for three replicas, and a Redis with its Service.
type fleetManifests struct {
	deploy  *appsv1.Deployment
	config  *corev1.ConfigMap
	pdb     *policyv1.PodDisruptionBudget
	redis   *appsv1.StatefulSet
	service *corev1.Service // Redis's
}

func loadFleetManifests(t *testing.T) fleetManifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/fleet/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var m fleetManifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("\n---")) {
			t.Fatalf("%s: one object per file", f)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(data, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			m.deploy = &appsv1.Deployment{}
			obj = m.deploy
		case "apps/v1 StatefulSet":
			m.redis = &appsv1.StatefulSet{}
			obj = m.redis
		case "v1 Service":
			m.service = &corev1.Service{}
			obj = m.service
		case "v1 ConfigMap":
			m.config = &corev1.ConfigMap{}
			obj = m.config
		case "policy/v1 PodDisruptionBudget":
			m.pdb = &policyv1.PodDisruptionBudget{}
			obj = m.pdb
		default:
			t.Fatalf("%s: unexpected %s %s", f, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if m.deploy == nil || m.redis == nil || m.service == nil || m.config == nil || m.pdb == nil {
		t.Fatalf("want a Deployment, StatefulSet, Service, ConfigMap and PodDisruptionBudget, got %+v", m)
	}
	return m
}

// documentedSecret is the Secret docs/fleet.md tells users to create (the example has
// no Secret manifest, so that applying the folder never overwrites a real password):
// its name and key.
func documentedSecret(t *testing.T) (name, key string) {
	t.Helper()
	doc, err := os.ReadFile("../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`kubectl create secret generic (\S+) --from-literal=(\w+)=`).FindAllSubmatch(doc, -1)
	if len(m) == 0 {
		t.Fatal("docs/fleet.md does not say how to create the Redis password's Secret")
	}
	for _, x := range m[1:] {
		if string(x[1]) != string(m[0][1]) || string(x[2]) != string(m[0][2]) {
			t.Errorf("docs/fleet.md creates the Secret as %s/%s and as %s/%s", m[0][1], m[0][2], x[1], x[2])
		}
	}
	return string(m[0][1]), string(m[0][2])
}

// secretEnv is the value source of the container's variable name: the Secret's name
// and key, or empty when it is not from a Secret (a failure is reported).
func secretEnv(t *testing.T, c corev1.Container, name string) (string, string) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("container %s: %s is not from a Secret", c.Name, name)
				return "", ""
			}
			ref := e.ValueFrom.SecretKeyRef
			if ref.Optional != nil && *ref.Optional {
				t.Errorf("container %s: %s's Secret is optional: a missing password must stop the pod", c.Name, name)
			}
			return ref.Name, ref.Key
		}
	}
	t.Errorf("container %s has no %s", c.Name, name)
	return "", ""
}

// TestKubernetesFleet: the fleet example agrees with the base manifests, with itself
// and with docs/fleet.md, and its configuration passes `gatehouse check`.
func TestKubernetesFleet(t *testing.T) {
	base := loadManifests(t)
	m := loadFleetManifests(t)
	secretName, secretKey := documentedSecret(t)

	// gatehouse: the base Deployment with three replicas and the Redis password.
	d := m.deploy
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	gh := d.Spec.Template.Spec.Containers[0]
	if n, k := secretEnv(t, gh, "REDIS_PASSWORD"); n != secretName || k != secretKey {
		t.Errorf("gatehouse's REDIS_PASSWORD is from %s/%s, want the documented Secret %s/%s", n, k, secretName, secretKey)
	}
	same := d.DeepCopy()
	same.Spec.Replicas = base.deploy.Spec.Replicas
	c := &same.Spec.Template.Spec.Containers[0]
	c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "REDIS_PASSWORD" })
	if len(c.Env) == 0 {
		c.Env = nil
	}
	if !equality.Semantic.DeepEqual(same, base.deploy) {
		t.Errorf("the fleet's Deployment differs from kubernetes/deployment.yaml in more than replicas and REDIS_PASSWORD")
	}

	// The configuration: the base file and a redis section pointing at the Service,
	// with the password from the environment; it passes check.
	src := m.config.Data["gatehouse.yaml"]
	if m.config.Name != base.config.Name || !strings.HasPrefix(src, base.config.Data["gatehouse.yaml"]) {
		t.Errorf("the fleet's ConfigMap must be %q, its gatehouse.yaml the base file with a redis section after it", base.config.Name)
	}
	t.Setenv("REDIS_PASSWORD", "test-password")
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"check", file}, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}); code != 0 {
		t.Fatalf("gatehouse check of the fleet ConfigMap's file: exit %d\n%s", code, stderr.String())
	}
	cfg, err := config.Parse("configmap.yaml", []byte(src), func(k string) (string, bool) {
		return map[string]string{"REDIS_PASSWORD": "from-env"}[k], k == "REDIS_PASSWORD"
	})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redis
	if r == nil {
		t.Fatal("the fleet's configuration has no redis section")
	}
	if r.Password != "from-env" {
		t.Errorf("redis.password is not ${REDIS_PASSWORD}")
	}
	if d.Spec.Replicas != nil && r.Replicas < int(*d.Spec.Replicas) {
		t.Errorf("redis.replicas %d is less than the Deployment's %d replicas", r.Replicas, *d.Spec.Replicas)
	}
	svc := m.service
	if r.Mode != config.RedisSingle || len(r.Addresses) != 1 {
		t.Fatalf("redis: mode %s, addresses %v: want the one Service", r.Mode, r.Addresses)
	}
	host, port, _ := net.SplitHostPort(r.Addresses[0])
	if host != svc.Name || len(svc.Spec.Ports) != 1 || port != strconv.Itoa(int(svc.Spec.Ports[0].Port)) {
		t.Errorf("redis.addresses %v, want the Service %s's port %v", r.Addresses, svc.Name, svc.Spec.Ports)
	}

	// Redis: selected by its Service and by nothing of gatehouse's.
	rs := m.redis
	redisPods := labels.Set(rs.Spec.Template.Labels)
	ghPods := labels.Set(d.Spec.Template.Labels)
	if sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector); err != nil || !sel.Matches(redisPods) {
		t.Errorf("the StatefulSet's selector does not match its pods: %v", err)
	}
	if rs.Spec.ServiceName != svc.Name {
		t.Errorf("serviceName %q, want %q", rs.Spec.ServiceName, svc.Name)
	}
	if s := labels.SelectorFromSet(svc.Spec.Selector); !s.Matches(redisPods) || s.Matches(ghPods) {
		t.Errorf("the Redis Service selects %v: want the Redis pods %v and not gatehouse's %v", svc.Spec.Selector, redisPods, ghPods)
	}
	if labels.SelectorFromSet(base.service.Spec.Selector).Matches(redisPods) {
		t.Errorf("gatehouse's Service selects the Redis pods")
	}
	if sel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector); err != nil || !sel.Matches(ghPods) || sel.Matches(redisPods) {
		t.Errorf("the PodDisruptionBudget must select gatehouse's pods only: %v", err)
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() < 1 || d.Spec.Replicas == nil || mu.IntValue() >= int(*d.Spec.Replicas) {
		t.Errorf("maxUnavailable %v with %v replicas", mu, d.Spec.Replicas)
	}

	if len(rs.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d Redis containers, want 1", len(rs.Spec.Template.Spec.Containers))
	}
	rc := rs.Spec.Template.Spec.Containers[0]
	if len(svc.Spec.Ports) == 1 && !slices.ContainsFunc(rc.Ports, func(p corev1.ContainerPort) bool {
		return p.Name == svc.Spec.Ports[0].TargetPort.String()
	}) {
		t.Errorf("the Service's targetPort %s is not a port of the Redis container", svc.Spec.Ports[0].TargetPort.String())
	}
	for _, v := range []string{"REDIS_PASSWORD", "REDISCLI_AUTH"} {
		if n, k := secretEnv(t, rc, v); n != secretName || k != secretKey {
			t.Errorf("Redis's %s is from %s/%s, want %s/%s", v, n, k, secretName, secretKey)
		}
	}
	// The directives Redis reads on standard input.
	script := strings.Join(append(slices.Clone(rc.Command), rc.Args...), "\n")
	directives := map[string]string{}
	for _, line := range strings.Split(script, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		directives[k] = v
	}
	for k, want := range map[string]string{"requirepass": "$REDIS_PASSWORD", "appendonly": "yes", "dir": "/data", "maxmemory-policy": "noeviction"} {
		if directives[k] != want {
			t.Errorf("Redis directive %s %q, want %q", k, directives[k], want)
		}
	}
	maxmem, err := resource.ParseQuantity(strings.TrimSuffix(directives["maxmemory"], "mb") + "Mi")
	limit := rc.Resources.Limits[corev1.ResourceMemory]
	if err != nil || limit.IsZero() || maxmem.Cmp(limit) >= 0 || rc.Resources.Requests.Memory().IsZero() {
		t.Errorf("maxmemory %q must be set below the memory limit %v (requests %v)", directives["maxmemory"], limit.String(), rc.Resources.Requests)
	}
	var dataClaim bool
	for _, vm := range rc.VolumeMounts {
		for _, pvc := range rs.Spec.VolumeClaimTemplates {
			dataClaim = dataClaim || vm.MountPath == "/data" && vm.Name == pvc.Name
		}
	}
	if !dataClaim {
		t.Errorf("/data (the append-only file) is not a volume claim")
	}
	psc, sc := rs.Spec.Template.Spec.SecurityContext, rc.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("Redis pod securityContext %+v: want runAsNonRoot and a non-zero user", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("Redis container securityContext %+v", sc)
	}
	for _, p := range []*corev1.Probe{rc.LivenessProbe, rc.ReadinessProbe} {
		if p == nil || p.Exec == nil || !strings.Contains(strings.Join(p.Exec.Command, " "), "redis-cli ping") {
			t.Errorf("Redis probe %+v: want redis-cli ping", p)
		}
	}
}
