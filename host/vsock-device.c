/* The vhost-user device's state (vsock-device.h). Every value the
 * front-end sends is checked against what this device offered before it is
 * kept; the rings are set up again from their addresses whenever the memory
 * table changes, since their pointers point into the old mappings. */
#include "vsock-device.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd); /* an eventfd: nothing to flush */
	*fd = -1;
}

void vsock_device_init(struct vsock_device *d, uint64_t guest_cid)
{
	memset(d, 0, sizeof(*d));
	d->guest_cid = guest_cid;
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++)
		d->vr[i].kick_fd = d->vr[i].call_fd = d->vr[i].err_fd = -1;
}

static void unmap_all(struct vsock_device *d)
{
	for (unsigned i = 0; i < VMEM_REGIONS_MAX; i++) {
		if (d->maps[i])
			(void)munmap(d->maps[i], d->map_sizes[i]); /* ours: cannot fail */
		d->maps[i] = NULL;
	}
	d->mem = (struct vmem_table){ 0 };
}

void vsock_device_free(struct vsock_device *d)
{
	unmap_all(d);
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
		close_fd(&d->vr[i].kick_fd);
		close_fd(&d->vr[i].call_fd);
		close_fd(&d->vr[i].err_fd);
	}
}

/* Sets the ring's queue up when it has what it needs. */
static int ring_setup(struct vsock_device *d, struct vsock_vring *v)
{
	v->q = (struct virtq){ 0 };
	if (!v->num || !v->have_addr || !d->mem.n)
		return 0;
	return virtq_setup(&v->q, &d->mem, VMEM_USER, v->num, v->desc, v->avail, v->used, v->base);
}

static int set_mem_table(struct vsock_device *d, const struct vhost_user_msg *m, const int *fds)
{
	struct vsock_device next;
	int r = 0;

	vsock_device_init(&next, 0);
	for (uint32_t i = 0; i < m->mem.n; i++) {
		const struct vhost_user_region *g = &m->mem.r[i];
		struct stat st;
		void *p;

		/* a mapping past the end of the file would fault at the first touch */
		if (fstat(fds[i], &st) < 0) {
			r = -errno;
			break;
		}
		if (g->mmap_offset > SIZE_MAX - g->size || st.st_size < 0 ||
		    (uint64_t)st.st_size < g->mmap_offset + g->size) {
			r = -EINVAL;
			break;
		}
		p = mmap(NULL, g->mmap_offset + g->size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i],
			 0);
		if (p == MAP_FAILED) {
			r = -errno;
			break;
		}
		next.maps[i] = p;
		next.map_sizes[i] = g->mmap_offset + g->size;
		r = vmem_table_add(&next.mem,
				   &(struct vmem_region){ .guest_addr = g->guest_addr,
							  .size = g->size,
							  .user_addr = g->user_addr,
							  .host = (uint8_t *)p + g->mmap_offset });
		if (r < 0)
			break;
	}
	if (r < 0) {
		unmap_all(&next);
		return r;
	}
	unmap_all(d);
	memcpy(d->maps, next.maps, sizeof(d->maps));
	memcpy(d->map_sizes, next.map_sizes, sizeof(d->map_sizes));
	d->mem = next.mem;
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
		/* a running ring keeps its place (memory can change under it) */
		struct virtq old = d->vr[i].q;

		if (ring_setup(d, &d->vr[i]) < 0)
			d->vr[i].q = (struct virtq){ 0 }; /* until its addresses are sent again */
		else if (old.num && d->vr[i].q.num) {
			d->vr[i].q.last_avail = old.last_avail;
			d->vr[i].q.used_idx = old.used_idx;
		}
	}
	return 0;
}

/* GET_CONFIG: the vsock config space is guest_cid, le64 (virtio 5.10.4).
 * A range outside it is answered with an empty payload, the protocol's
 * way to say no. */
static int get_config(struct vsock_device *d, const struct vhost_user_msg *m, uint8_t *reply,
		      size_t reply_size)
{
	uint8_t out[VHOST_USER_CONFIG_HDR + 8];
	uint64_t cid = htole64(d->guest_cid);
	uint32_t f[3] = { m->config.offset, m->config.size, m->config.flags };

	if (m->config.offset > sizeof(cid) || m->config.size > sizeof(cid) - m->config.offset)
		return vhost_user_reply(m->hdr.request, NULL, 0, reply, reply_size);
	memcpy(out, f, sizeof(f));
	memcpy(out + VHOST_USER_CONFIG_HDR, (uint8_t *)&cid + m->config.offset, m->config.size);
	return vhost_user_reply(m->hdr.request, out, VHOST_USER_CONFIG_HDR + m->config.size, reply,
				reply_size);
}

static bool is_vring_fd(const struct vhost_user_msg *m)
{
	return m->hdr.request >= VHOST_USER_SET_VRING_KICK &&
	       m->hdr.request <= VHOST_USER_SET_VRING_ERR;
}

/* Which ring a vring request names: each payload type has it elsewhere. */
static uint32_t vring_index(const struct vhost_user_msg *m)
{
	if (m->hdr.request == VHOST_USER_SET_VRING_ADDR)
		return m->addr.index;
	return is_vring_fd(m) ? m->vring_fd.index : m->state.index;
}

static struct vsock_vring *ring_of(struct vsock_device *d, uint32_t index)
{
	return index < VSOCK_DEVICE_VRINGS ? &d->vr[index] : NULL;
}

/* The request's own work: the reply's length, 0 for none, or -errno. */
static int apply(struct vsock_device *d, const struct vhost_user_msg *m, const int *fds,
		 uint8_t *reply, size_t reply_size)
{
	struct vsock_vring *v;
	int fd;

	switch (m->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		return vhost_user_reply_u64(m->hdr.request, VSOCK_DEVICE_FEATURES, reply,
					    reply_size);
	case VHOST_USER_SET_FEATURES:
		if (m->u64 & ~VSOCK_DEVICE_FEATURES)
			return -EINVAL;
		d->features = m->u64;
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return vhost_user_reply_u64(m->hdr.request, VSOCK_DEVICE_PROTOCOL_FEATURES, reply,
					    reply_size);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (m->u64 & ~VSOCK_DEVICE_PROTOCOL_FEATURES)
			return -EINVAL;
		d->protocol_features = m->u64;
		return 0;
	case VHOST_USER_SET_OWNER:
		d->owned = true;
		return 0;
	case VHOST_USER_RESET_OWNER:
		return 0; /* deprecated; vhost-user.rst recommends ignoring it */
	case VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(d, m, fds);
	case VHOST_USER_GET_CONFIG:
		return get_config(d, m, reply, reply_size);
	case VHOST_USER_SET_CONFIG:
		return -EPERM;
	default:
		break;
	}

	/* the vring requests */
	v = ring_of(d, vring_index(m));
	if (!v)
		return -EINVAL;
	fd = m->n_fds ? fds[0] : -1;
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_NUM:
		if (!m->state.num || m->state.num > VIRTQ_SIZE_MAX ||
		    (m->state.num & (m->state.num - 1)))
			return -EINVAL;
		v->num = (uint16_t)m->state.num;
		return ring_setup(d, v);
	case VHOST_USER_SET_VRING_ADDR:
		v->desc = m->addr.desc;
		v->used = m->addr.used;
		v->avail = m->addr.avail;
		v->have_addr = true;
		return ring_setup(d, v);
	case VHOST_USER_SET_VRING_BASE:
		if (m->state.num > UINT16_MAX)
			return -EINVAL;
		v->base = (uint16_t)m->state.num;
		return ring_setup(d, v);
	case VHOST_USER_GET_VRING_BASE:
		/* the ring stops; where it stopped is its next base */
		v->started = false;
		v->base = v->q.num ? v->q.last_avail : v->base;
		close_fd(&v->kick_fd);
		return vhost_user_reply_state(m->hdr.request, m->state.index, v->base, reply,
					      reply_size);
	case VHOST_USER_SET_VRING_KICK:
		close_fd(&v->kick_fd);
		v->kick_fd = fd;
		v->started = true;
		return 0;
	case VHOST_USER_SET_VRING_CALL:
		close_fd(&v->call_fd);
		v->call_fd = fd;
		return 0;
	case VHOST_USER_SET_VRING_ERR:
		close_fd(&v->err_fd);
		v->err_fd = fd;
		return 0;
	case VHOST_USER_SET_VRING_ENABLE:
		if (m->state.num > 1)
			return -EINVAL;
		v->enabled = m->state.num;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* Requests whose fds are kept (the ring's eventfds); all others' are closed. */
static bool keeps_fds(const struct vhost_user_msg *m)
{
	return is_vring_fd(m) && m->vring_fd.index < VSOCK_DEVICE_VRINGS;
}

int vsock_device_handle(struct vsock_device *d, const struct vhost_user_msg *m, const int *fds,
			uint8_t *reply, size_t reply_size)
{
	bool ack = (d->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)) &&
		   (m->hdr.flags & VHOST_USER_FLAG_NEED_REPLY);
	int r = apply(d, m, fds, reply, reply_size);

	if (r < 0 || !keeps_fds(m))
		for (unsigned i = 0; i < m->n_fds; i++) {
			int fd = fds[i];

			close_fd(&fd);
		}
	if (!ack || r > 0)
		return r;
	return vhost_user_reply_u64(m->hdr.request, r < 0 ? 1 : 0, reply, reply_size);
}

struct virtq *vsock_device_ring(struct vsock_device *d, unsigned index)
{
	struct vsock_vring *v = ring_of(d, index);

	/* without protocol features a ring is enabled from the start
	 * (vhost-user.rst, "Ring states") */
	bool enabled = v && (v->enabled || !(d->features & 1ull << VHOST_USER_F_PROTOCOL_FEATURES));

	if (!v || !v->started || !enabled || !v->q.num)
		return NULL;
	return &v->q;
}
