/* The split virtqueue (virtq.h). The guest can change its rings while we
 * read them, so each field is read once, into a local, and checked there;
 * the available index is read with acquire and the used index written with
 * release ordering (2.7.13, 2.7.8), and everything is little-endian. */
#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define DESC_SIZE 16

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static void store32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

int virtq_setup(struct virtq *q, const struct vmem_table *mem, enum vmem_space space, uint16_t num,
		uint64_t desc, uint64_t avail, uint64_t used, uint16_t base)
{
	void *d, *a, *u;
	int r;

	if (!num || num > VIRTQ_SIZE_MAX || (num & (num - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	r = vmem_translate(mem, space, desc, (uint64_t)DESC_SIZE * num, &d);
	if (r < 0)
		return r;
	r = vmem_translate(mem, space, avail, 6 + 2 * (uint64_t)num, &a);
	if (r < 0)
		return r;
	r = vmem_translate(mem, space, used, 6 + 8 * (uint64_t)num, &u);
	if (r < 0)
		return r;
	*q = (struct virtq){
		.num = num, .desc = d, .avail = a, .used = u, .last_avail = base, .used_idx = base
	};
	return 0;
}

static uint16_t avail_idx(const struct virtq *q)
{
	uint16_t v = __atomic_load_n((uint16_t *)(void *)(q->avail + 2), __ATOMIC_ACQUIRE);

	return le16toh(v);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc desc_read(const struct virtq *q, uint16_t i)
{
	uint8_t raw[DESC_SIZE];
	struct desc d;
	uint64_t a;
	uint32_t l;

	memcpy(raw, q->desc + (size_t)i * DESC_SIZE, DESC_SIZE);
	memcpy(&a, raw, 8);
	memcpy(&l, raw + 8, 4);
	d.addr = le64toh(a);
	d.len = le32toh(l);
	d.flags = load16(raw + 12);
	d.next = load16(raw + 14);
	return d;
}

static int chain_walk(const struct virtq *q, const struct vmem_table *mem, uint16_t head,
		      struct virtq_chain *c)
{
	uint16_t i = head;
	unsigned count = 0;

	for (;;) {
		struct desc d;
		void *p;
		int r;

		if (i >= q->num)
			return -EINVAL;
		/* 2.7.5.3.1: no chain is longer than the queue; a longer one loops */
		if (++count > q->num)
			return -ELOOP;
		d = desc_read(q, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			if (d.len > UINT32_MAX - c->writable)
				return -EOVERFLOW;
			c->writable += d.len;
		} else {
			if (c->writable)
				return -EINVAL;
			if (d.len > UINT32_MAX - c->readable)
				return -EOVERFLOW;
			c->readable += d.len;
		}
		if (d.len) {
			if (c->n >= VIRTQ_CHAIN_MAX)
				return -E2BIG;
			r = vmem_translate(mem, VMEM_GUEST, d.addr, d.len, &p);
			if (r < 0)
				return r;
			c->seg[c->n++] = (struct virtq_seg){
				.p = p, .len = d.len, .write = !!(d.flags & VIRTQ_DESC_F_WRITE)
			};
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct vmem_table *mem, struct virtq_chain *ret)
{
	uint16_t idx, pending, head;
	int r;

	if (!q->num)
		return 0;
	idx = avail_idx(q);
	pending = (uint16_t)(idx - q->last_avail);
	if (!pending)
		return 0;
	if (pending > q->num)
		return -EPROTO;
	head = load16(q->avail + 4 + 2 * (size_t)(q->last_avail % q->num));
	q->last_avail++;
	ret->head = head;
	ret->n = 0;
	ret->readable = ret->writable = 0;
	r = chain_walk(q, mem, head, ret);
	return r < 0 ? r : 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *e;

	if (!q->num || head >= q->num)
		return -EINVAL;
	e = q->used + 4 + 8 * (size_t)(q->used_idx % q->num);
	store32(e, head);
	store32(e + 4, len);
	q->used_idx++;
	/* the element is visible before the index that publishes it */
	__atomic_store_n((uint16_t *)(void *)(q->used + 2), htole16(q->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool virtq_need_call(const struct virtq *q)
{
	/* the used index is stored before the flags are read (2.7.7.2): else
	 * the driver can set NO_INTERRUPT too late and never hear of a buffer */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return q->num && !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static int chain_copy(const struct virtq_chain *c, bool write, size_t offset, uint8_t *buf,
		      size_t len)
{
	size_t done = 0, have = write ? c->writable : c->readable;

	/* checked first, so that nothing is copied when the chain is short */
	if (offset > have || len > have - offset)
		return -EMSGSIZE;
	for (unsigned i = 0; i < c->n && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		size_t n;

		if (s->write != write)
			continue;
		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		n = s->len - offset;
		if (n > len - done)
			n = len - done;
		if (write)
			memcpy(s->p + offset, buf + done, n);
		else
			memcpy(buf + done, s->p + offset, n);
		done += n;
		offset = 0;
	}
	return done == len ? 0 : -EMSGSIZE;
}

int virtq_chain_read(const struct virtq_chain *c, size_t offset, void *buf, size_t len)
{
	return chain_copy(c, false, offset, buf, len);
}

int virtq_chain_write(const struct virtq_chain *c, size_t offset, const void *buf, size_t len)
{
	return chain_copy(c, true, offset, (uint8_t *)(uintptr_t)buf, len);
}
